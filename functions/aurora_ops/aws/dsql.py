"""Thin Aurora DSQL adapter: a cluster's status and its multi-Region properties
(GetCluster, botocore's `dsql` service model). AWS shapes in, plain dicts out."""

from __future__ import annotations

from botocore.exceptions import ClientError

from .clients import client, error_code, translate_errors


def arn_region(arn: str) -> str:
    return arn.split(":")[3]


def arn_identifier(arn: str) -> str:
    """arn:aws:dsql:REGION:ACCOUNT:cluster/IDENTIFIER -> IDENTIFIER"""
    return arn.rsplit("/", 1)[-1]


@translate_errors
def get_cluster(identifier: str, region: str | None = None) -> dict | None:
    """{id, arn, region, status, witness_region, clusters}, or None when the cluster does not
    exist (ResourceNotFoundException). `clusters` is multiRegionProperties.clusters: the ARNs
    of the peered clusters, the cluster's own included (as AWS lists them); empty for a
    single-Region cluster. `status` is one of CREATING, ACTIVE, IDLE, INACTIVE, UPDATING,
    DELETING, DELETED, FAILED, PENDING_SETUP, PENDING_DELETE."""
    try:
        raw = client("dsql", region).get_cluster(identifier=identifier)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    properties = raw.get("multiRegionProperties") or {}
    return {
        "id": raw["identifier"],
        "arn": raw["arn"],
        "region": arn_region(raw["arn"]),
        "status": raw["status"],
        "witness_region": properties.get("witnessRegion") or None,
        "clusters": list(properties.get("clusters") or []),
    }
