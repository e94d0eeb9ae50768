"""moto's in-memory state, read and written directly where the API can't say what the world says."""

from __future__ import annotations


def rds_backend(account: str, region: str):
    from moto.rds.models import rds_backends

    return rds_backends[account][region]


def rds_regions(account: str) -> set[str]:
    """Regions where moto's RDS holds a cluster or a cluster snapshot."""
    from moto.rds.models import rds_backends

    return {r for r, b in rds_backends[account].items() if b.clusters or b.cluster_snapshots}


def global_clusters(account: str):
    """moto's global clusters (CaseInsensitiveDict id -> GlobalCluster). moto keeps them in
    us-east-1's backend and answers DescribeGlobalClusters from there in every region: global
    clusters belong to no region, and their ARNs carry none."""
    from moto.rds.models import rds_backends

    return rds_backends[account]["us-east-1"].global_clusters


def cluster_status(cluster) -> str:
    """A moto cluster's status without reading its `status` property, which turns a
    `creating` cluster `available` when read."""
    return cluster._status
