"""Thin Aurora DSQL adapter: a cluster's status and its multi-Region properties
(GetCluster, botocore's `dsql` service model). AWS shapes in, plain dicts out."""

from __future__ import annotations

import botocore
from botocore.exceptions import ClientError, UnknownServiceError

from ..core.errors import SdkTooOld
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
    dsql = _client(region)
    try:
        raw = dsql.get_cluster(identifier=identifier)
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


def _client(region: str | None):
    """The DSQL client, if the runtime's SDK knows multiRegionProperties (botocore of May
    2025 on): an older one would drop them from the answer silently, and every cluster would
    look single-Region. The Lambda runtime's boto3 is not pinned (functions/requirements.txt)."""
    try:
        dsql = client("dsql", region)
    except UnknownServiceError:
        raise SdkTooOld(f"botocore {botocore.__version__} does not know Aurora DSQL") from None
    if "multiRegionProperties" not in dsql.meta.service_model.operation_model("GetCluster").output_shape.members:
        raise SdkTooOld(f"botocore {botocore.__version__} does not know Aurora DSQL's multiRegionProperties "
                        "(May 2025): package a newer boto3 with the functions")
    return dsql
