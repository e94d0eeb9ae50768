"""Thin RDS adapter: AWS shapes in, plain dicts out."""

from __future__ import annotations

from botocore.exceptions import ClientError

from . import CREATED_BY_TAG, clock
from .aws import client, error_code, translate_errors


def _tags(tag_list: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list or []}


@translate_errors
def describe_cluster(cluster_id: str, region: str | None = None) -> dict | None:
    try:
        found = client("rds", region).describe_db_clusters(DBClusterIdentifier=cluster_id)
    except ClientError as exc:
        if error_code(exc) == "DBClusterNotFoundFault":
            return None
        raise
    cluster = found["DBClusters"][0]
    return {
        "cluster_id": cluster["DBClusterIdentifier"],
        "status": cluster["Status"],
        "engine": cluster["Engine"],
        "engine_version": cluster["EngineVersion"],
        "availability_zones": cluster.get("AvailabilityZones", []),
        "writer_id": next(
            (m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", []) if m["IsClusterWriter"]),
            None,
        ),
        "tags": _tags(cluster.get("TagList")),
    }


def _instance(raw: dict, writer_id: str | None) -> dict:
    created = raw.get("InstanceCreateTime")
    return {
        "instance_id": raw["DBInstanceIdentifier"],
        "cluster_id": raw.get("DBClusterIdentifier"),
        "instance_class": raw["DBInstanceClass"],
        "availability_zone": raw.get("AvailabilityZone"),
        "status": raw["DBInstanceStatus"],
        "writer": raw["DBInstanceIdentifier"] == writer_id,
        "promotion_tier": raw.get("PromotionTier"),
        "created": clock.iso(created) if created else None,
        "tags": _tags(raw.get("TagList")),
        "settings": {
            "parameter_group": next(
                (g["DBParameterGroupName"] for g in raw.get("DBParameterGroups", [])), None
            ),
            "monitoring_interval": raw.get("MonitoringInterval", 0),
            "monitoring_role_arn": raw.get("MonitoringRoleArn"),
            "performance_insights": raw.get("PerformanceInsightsEnabled", False),
            "performance_insights_kms_key_id": raw.get("PerformanceInsightsKMSKeyId"),
            "performance_insights_retention": raw.get("PerformanceInsightsRetentionPeriod"),
            "ca_certificate": raw.get("CACertificateIdentifier"),
            "auto_minor_version_upgrade": raw.get("AutoMinorVersionUpgrade", True),
            "publicly_accessible": raw.get("PubliclyAccessible", False),
        },
    }


@translate_errors
def describe_cluster_instances(cluster_id: str, writer_id: str | None, region: str | None = None) -> list[dict]:
    pages = client("rds", region).get_paginator("describe_db_instances").paginate(
        Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}]
    )
    return [_instance(raw, writer_id) for page in pages for raw in page["DBInstances"]]


@translate_errors
def describe_instance(instance_id: str, region: str | None = None) -> dict | None:
    """The instance, with `writer` read from its cluster; None when it does not exist."""
    try:
        found = client("rds", region).describe_db_instances(DBInstanceIdentifier=instance_id)
    except ClientError as exc:
        if error_code(exc) == "DBInstanceNotFound":
            return None
        raise
    return _instance(found["DBInstances"][0], writer_id=None)


@translate_errors
def orderable_azs(engine: str, engine_version: str, instance_class: str, region: str | None = None) -> list[str]:
    pages = client("rds", region).get_paginator("describe_orderable_db_instance_options").paginate(
        Engine=engine, EngineVersion=engine_version, DBInstanceClass=instance_class, Vpc=True
    )
    azs = {
        az["Name"]
        for page in pages
        for option in page["OrderableDBInstanceOptions"]
        for az in option.get("AvailabilityZones", [])
    }
    return sorted(azs)


@translate_errors
def create_reader(
    *, instance_id: str, cluster_id: str, engine: str, instance_class: str, availability_zone: str,
    promotion_tier: int, settings: dict, created_by: str, region: str | None = None,
) -> None:
    params = {
        "DBInstanceIdentifier": instance_id,
        "DBClusterIdentifier": cluster_id,
        "Engine": engine,
        "DBInstanceClass": instance_class,
        "AvailabilityZone": availability_zone,
        "PromotionTier": promotion_tier,
        "AutoMinorVersionUpgrade": settings["auto_minor_version_upgrade"],
        "PubliclyAccessible": settings["publicly_accessible"],
        "MonitoringInterval": settings["monitoring_interval"],
        "EnablePerformanceInsights": settings["performance_insights"],
        "Tags": [{"Key": CREATED_BY_TAG, "Value": created_by}],
    }
    optional = {
        "DBParameterGroupName": settings["parameter_group"],
        "MonitoringRoleArn": settings["monitoring_role_arn"] if settings["monitoring_interval"] else None,
        "PerformanceInsightsKMSKeyId": settings["performance_insights_kms_key_id"] if settings["performance_insights"] else None,
        "PerformanceInsightsRetentionPeriod": settings["performance_insights_retention"] if settings["performance_insights"] else None,
        "CACertificateIdentifier": settings["ca_certificate"],
    }
    params.update({k: v for k, v in optional.items() if v is not None})
    client("rds", region).create_db_instance(**params)


@translate_errors
def delete_instance(instance_id: str, region: str | None = None) -> None:
    client("rds", region).delete_db_instance(DBInstanceIdentifier=instance_id)
