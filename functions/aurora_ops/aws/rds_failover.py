"""Thin RDS adapter for failovers: a cluster's failover, and global clusters
(describe, switchover, failover with data loss, detach). AWS shapes in, plain dicts out.

Global cluster calls go to the target cluster's region: in a regional outage the
primary's endpoint may not answer, and RemoveFromGlobalCluster must be called in
the region of the cluster it detaches (Aurora User Guide, "Removing a cluster from
an Amazon Aurora global database")."""

from __future__ import annotations

from .clients import client, translate_errors
from .rds import _unless_missing


def arn_region(arn: str) -> str:
    return arn.split(":")[3]


def arn_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _member(raw: dict) -> dict:
    return {
        "cluster_id": arn_name(raw["DBClusterArn"]),
        "arn": raw["DBClusterArn"],
        "region": arn_region(raw["DBClusterArn"]),
        "writer": bool(raw.get("IsWriter")),
        "synchronization": raw.get("SynchronizationStatus"),
    }


@translate_errors
def describe_global_cluster(global_cluster_id: str, region: str | None = None) -> dict | None:
    """The global cluster with its members ({cluster_id, arn, region, writer,
    synchronization}) and its FailoverState while a switchover or failover runs."""
    found = _unless_missing("GlobalClusterNotFoundFault", client("rds", region).describe_global_clusters,
                            GlobalClusterIdentifier=global_cluster_id)
    if not found or not found.get("GlobalClusters"):
        return None
    return _global_cluster(found["GlobalClusters"][0])


@translate_errors
def list_global_clusters(region: str | None = None) -> list[dict]:
    """Every global cluster of the account (they belong to no region: any region answers),
    each as describe_global_cluster gives it, in pages of 100."""
    pages = client("rds", region).get_paginator("describe_global_clusters").paginate(
        PaginationConfig={"PageSize": 100})
    return [_global_cluster(raw) for page in pages for raw in page["GlobalClusters"]]


def _global_cluster(raw: dict) -> dict:
    state = raw.get("FailoverState") or None
    return {
        "global_cluster_id": raw["GlobalClusterIdentifier"],
        "status": raw.get("Status"),
        "engine": raw.get("Engine"),
        "engine_version": raw.get("EngineVersion"),
        "members": [_member(m) for m in raw.get("GlobalClusterMembers", [])],
        "failover_state": {
            "status": state.get("Status"),
            "from": arn_name(state["FromDbClusterArn"]) if state.get("FromDbClusterArn") else None,
            "to": arn_name(state["ToDbClusterArn"]) if state.get("ToDbClusterArn") else None,
            "data_loss_allowed": bool(state.get("IsDataLossAllowed")),
        } if state else None,
    }


@translate_errors
def failover_cluster(cluster_id: str, target_instance_id: str, region: str | None = None) -> None:
    client("rds", region).failover_db_cluster(DBClusterIdentifier=cluster_id,
                                              TargetDBInstanceIdentifier=target_instance_id)


@translate_errors
def switchover_global_cluster(global_cluster_id: str, target_arn: str) -> None:
    client("rds", arn_region(target_arn)).switchover_global_cluster(
        GlobalClusterIdentifier=global_cluster_id, TargetDbClusterIdentifier=target_arn)


@translate_errors
def failover_global_cluster(global_cluster_id: str, target_arn: str) -> None:
    """An unplanned failover: AllowDataLoss, since the primary may not answer."""
    client("rds", arn_region(target_arn)).failover_global_cluster(
        GlobalClusterIdentifier=global_cluster_id, TargetDbClusterIdentifier=target_arn, AllowDataLoss=True)


@translate_errors
def remove_from_global_cluster(global_cluster_id: str, member_arn: str) -> None:
    client("rds", arn_region(member_arn)).remove_from_global_cluster(
        GlobalClusterIdentifier=global_cluster_id, DbClusterIdentifier=member_arn)
