"""moto's in-memory state, read and written directly where the API can't say what the world says."""

from __future__ import annotations


def rds_backend(account: str, region: str):
    from moto.rds.models import rds_backends

    return rds_backends[account][region]


def rds_regions(account: str) -> set[str]:
    """Regions where moto's RDS holds a cluster or a cluster snapshot."""
    from moto.rds.models import rds_backends

    return {r for r, b in rds_backends[account].items() if b.clusters or b.cluster_snapshots}
