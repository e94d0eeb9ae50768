"""Thin RDS adapter: AWS shapes in, plain dicts out."""

from __future__ import annotations

from botocore.exceptions import ClientError

from ..core import clock
from ..core.tags import CREATED_BY_TAG
from .clients import client, error_code, translate_errors


def _unless_missing(not_found_code: str, call, **params) -> dict | None:
    """The call's response, or None when AWS says the resource does not exist."""
    try:
        return call(**params)
    except ClientError as exc:
        if error_code(exc) == not_found_code:
            return None
        raise


def _tags(tag_list: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list or []}


@translate_errors
def describe_cluster(cluster_id: str, region: str | None = None) -> dict | None:
    found = _unless_missing("DBClusterNotFoundFault", client("rds", region).describe_db_clusters,
                            DBClusterIdentifier=cluster_id)
    return _cluster(found["DBClusters"][0]) if found else None


PAGE = 100  # RDS's largest page (MaxRecords), and the values per filter this code sends


@translate_errors
def list_clusters(region: str | None = None) -> list[dict]:
    """Every cluster of the region, tags included, in pages of 100."""
    pages = client("rds", region).get_paginator("describe_db_clusters").paginate(PaginationConfig={"PageSize": PAGE})
    return [_cluster(raw) for page in pages for raw in page["DBClusters"]]


def _cluster(cluster: dict) -> dict:
    members = cluster.get("DBClusterMembers", [])
    return {
        "cluster_id": cluster["DBClusterIdentifier"],
        "arn": cluster.get("DBClusterArn"),
        "status": cluster["Status"],
        "engine": cluster["Engine"],
        "engine_version": cluster["EngineVersion"],
        "availability_zones": cluster.get("AvailabilityZones", []),
        "serverless_v2": _serverless_v2(cluster.get("ServerlessV2ScalingConfiguration")),
        "writer_id": next((m["DBInstanceIdentifier"] for m in members if m["IsClusterWriter"]), None),
        "members": [m["DBInstanceIdentifier"] for m in members],
        "global_cluster_id": cluster.get("GlobalClusterIdentifier"),
        "tags": _tags(cluster.get("TagList")),
        "master_user_secret": bool(cluster.get("MasterUserSecret")),
        "master_user_secret_arn": (cluster.get("MasterUserSecret") or {}).get("SecretArn"),
        "http_endpoint_enabled": bool(cluster.get("HttpEndpointEnabled")),
        "restorable": [clock.iso(cluster[k]) if cluster.get(k) else None
                       for k in ("EarliestRestorableTime", "LatestRestorableTime")],
    }


def _chunks(values: list, size: int = PAGE):
    return (values[i:i + size] for i in range(0, len(values), size))


@translate_errors
def instances_of_clusters(writers: dict[str, str | None], region: str | None = None) -> list[dict]:
    """The instances of several clusters ({cluster_id: writer_id}) in as few
    paginated calls as the filter allows (100 clusters per filter)."""
    paginator = client("rds", region).get_paginator("describe_db_instances")
    found = []
    for chunk in _chunks(sorted(writers)):
        pages = paginator.paginate(Filters=[{"Name": "db-cluster-id", "Values": chunk}],
                                   PaginationConfig={"PageSize": PAGE})
        found += [_instance(raw, writers.get(raw.get("DBClusterIdentifier"))) for page in pages
                  for raw in page["DBInstances"]]
    return found


@translate_errors
def existing_instances(instance_ids: list[str], region: str | None = None) -> dict[str, str]:
    """{instance_id: status} of those of `instance_ids` that still exist, 100 per call."""
    paginator = client("rds", region).get_paginator("describe_db_instances")
    found = {}
    for chunk in _chunks(sorted(instance_ids)):
        for page in paginator.paginate(Filters=[{"Name": "db-instance-id", "Values": chunk}],
                                       PaginationConfig={"PageSize": PAGE}):
            found.update({raw["DBInstanceIdentifier"]: raw["DBInstanceStatus"] for raw in page["DBInstances"]})
    return found


def _serverless_v2(config: dict | None) -> dict | None:
    """The cluster's Serverless v2 capacity range (ACUs), or None when it has no
    ServerlessV2ScalingConfiguration (then it can have no db.serverless instance)."""
    if not config or config.get("MaxCapacity") is None:
        return None
    return {"min_acu": config.get("MinCapacity"), "max_acu": config["MaxCapacity"]}


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


def describe_cluster_instances(cluster_id: str, writer_id: str | None, region: str | None = None) -> list[dict]:
    return instances_of_clusters({cluster_id: writer_id}, region)


@translate_errors
def describe_instance(instance_id: str, region: str | None = None) -> dict | None:
    """The instance, with `writer` read from its cluster; None when it does not exist."""
    found = _unless_missing("DBInstanceNotFound", client("rds", region).describe_db_instances,
                            DBInstanceIdentifier=instance_id)
    return _instance(found["DBInstances"][0], writer_id=None) if found else None


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
def create_instance(
    *, instance_id: str, cluster_id: str, engine: str, instance_class: str, availability_zone: str | None,
    promotion_tier: int, tags: dict[str, str], extra: dict | None = None, region: str | None = None,
) -> None:
    params = {
        "DBInstanceIdentifier": instance_id,
        "DBClusterIdentifier": cluster_id,
        "Engine": engine,
        "DBInstanceClass": instance_class,
        "PromotionTier": promotion_tier,
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        **({"AvailabilityZone": availability_zone} if availability_zone else {}),
        **(extra or {}),
    }
    client("rds", region).create_db_instance(**params)


def create_reader(
    *, instance_id: str, cluster_id: str, engine: str, instance_class: str, availability_zone: str,
    promotion_tier: int, settings: dict, created_by: str, region: str | None = None,
) -> None:
    """A reader configured like the writer (`settings` from describe_cluster_instances).
    `instance_class` may be db.serverless (its cluster needs a Serverless v2 scaling
    configuration): CreateDBInstance needs nothing more for it, and the same settings apply."""
    extra = {
        "AutoMinorVersionUpgrade": settings["auto_minor_version_upgrade"],
        "PubliclyAccessible": settings["publicly_accessible"],
        "MonitoringInterval": settings["monitoring_interval"],
        "EnablePerformanceInsights": settings["performance_insights"],
    }
    optional = {
        "DBParameterGroupName": settings["parameter_group"],
        "MonitoringRoleArn": settings["monitoring_role_arn"] if settings["monitoring_interval"] else None,
        "PerformanceInsightsKMSKeyId": settings["performance_insights_kms_key_id"] if settings["performance_insights"] else None,
        "PerformanceInsightsRetentionPeriod": settings["performance_insights_retention"] if settings["performance_insights"] else None,
        "CACertificateIdentifier": settings["ca_certificate"],
    }
    extra.update({k: v for k, v in optional.items() if v is not None})
    create_instance(instance_id=instance_id, cluster_id=cluster_id, engine=engine, instance_class=instance_class,
                    availability_zone=availability_zone, promotion_tier=promotion_tier,
                    tags={CREATED_BY_TAG: created_by}, extra=extra, region=region)


def _delete_unless_going(delete, not_found_code: str, invalid_state_code: str, describe) -> None:
    """Call `delete`; what is already gone, or already `deleting` (RDS refuses a second
    delete with an invalid-state error), counts as deleted: a retried step repeats its delete."""
    try:
        delete()
    except ClientError as exc:
        if error_code(exc) == not_found_code:
            return
        if error_code(exc) == invalid_state_code:
            found = describe()
            if found is None or found["status"] == "deleting":
                return
        raise


@translate_errors
def delete_instance(instance_id: str, region: str | None = None) -> None:
    _delete_unless_going(lambda: client("rds", region).delete_db_instance(DBInstanceIdentifier=instance_id),
                         "DBInstanceNotFound", "InvalidDBInstanceState",
                         lambda: describe_instance(instance_id, region))


def _snapshot(raw: dict) -> dict:
    return {
        "snapshot_id": raw["DBClusterSnapshotIdentifier"],
        "arn": raw["DBClusterSnapshotArn"],
        "cluster_id": raw.get("DBClusterIdentifier"),
        "status": raw["Status"],
        "type": raw.get("SnapshotType"),
        "created": clock.iso(raw["SnapshotCreateTime"]) if raw.get("SnapshotCreateTime") else None,
        "engine": raw.get("Engine"),
        "engine_version": raw.get("EngineVersion"),
        "encrypted": raw.get("StorageEncrypted", False),
        "kms_key_id": raw.get("KmsKeyId"),
        "tags": _tags(raw.get("TagList")),
    }


@translate_errors
def cluster_snapshots(cluster_id: str, region: str | None = None) -> list[dict]:
    """Automated and manual snapshots of a cluster (the cluster may be gone)."""
    pages = client("rds", region).get_paginator("describe_db_cluster_snapshots").paginate(
        DBClusterIdentifier=cluster_id
    )
    return [_snapshot(raw) for page in pages for raw in page["DBClusterSnapshots"]]


@translate_errors
def newest_snapshots(cluster_ids: list[str], region: str | None = None) -> dict[str, dict | None]:
    """For each cluster, its newest `available` snapshot (automated or manual), or None:
    filtered pages of 100 (100 clusters per filter), however many clusters."""
    paginator = client("rds", region).get_paginator("describe_db_cluster_snapshots")
    newest: dict[str, dict | None] = dict.fromkeys(cluster_ids)
    for chunk in _chunks(sorted(set(cluster_ids))):
        for page in paginator.paginate(Filters=[{"Name": "db-cluster-id", "Values": chunk}],
                                       PaginationConfig={"PageSize": PAGE}):
            for snapshot in map(_snapshot, page["DBClusterSnapshots"]):
                known = newest.get(snapshot["cluster_id"])
                if snapshot["status"] == "available" and snapshot["created"] and snapshot["cluster_id"] in newest \
                        and (known is None or snapshot["created"] > known["created"]):
                    newest[snapshot["cluster_id"]] = snapshot
    return newest


@translate_errors
def clusters_by_id(cluster_ids: list[str], region: str | None = None) -> dict[str, dict]:
    """The clusters of `cluster_ids` that exist in `region`, by id: filtered pages of 100."""
    paginator = client("rds", region).get_paginator("describe_db_clusters")
    found = {}
    for chunk in _chunks(sorted(set(cluster_ids))):
        for page in paginator.paginate(Filters=[{"Name": "db-cluster-id", "Values": chunk}],
                                       PaginationConfig={"PageSize": PAGE}):
            found.update({raw["DBClusterIdentifier"]: _cluster(raw) for raw in page["DBClusters"]})
    return found


@translate_errors
def describe_snapshot(snapshot: str, region: str | None = None) -> dict | None:
    """A snapshot by identifier or ARN; None when it does not exist."""
    found = _unless_missing("DBClusterSnapshotNotFoundFault", client("rds", region).describe_db_cluster_snapshots,
                            DBClusterSnapshotIdentifier=snapshot)
    return _snapshot(found["DBClusterSnapshots"][0]) if found and found["DBClusterSnapshots"] else None


@translate_errors
def copy_snapshot(*, source_arn: str, source_region: str, target_id: str, kms_key_id: str | None,
                  tags: dict[str, str], region: str) -> None:
    client("rds", region).copy_db_cluster_snapshot(
        SourceDBClusterSnapshotIdentifier=source_arn, TargetDBClusterSnapshotIdentifier=target_id,
        SourceRegion=source_region, Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        **({"KmsKeyId": kms_key_id} if kms_key_id else {}),
    )


@translate_errors
def restore_cluster(*, target: dict, source: dict, snapshot: str | None, tags: dict[str, str], region: str) -> None:
    """From `snapshot`, or to source["restore_time"] of source["cluster_id"] (point in time)."""
    params = {
        "DBClusterIdentifier": target["cluster_id"],
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        "CopyTagsToSnapshot": True,
    }
    optional = {
        "DBSubnetGroupName": target.get("db_subnet_group"),
        "VpcSecurityGroupIds": target.get("vpc_security_group_ids") or None,
        "DBClusterParameterGroupName": target.get("db_cluster_parameter_group"),
        "KmsKeyId": target.get("kms_key_id"),
    }
    params.update({k: v for k, v in optional.items() if v is not None})
    rds = client("rds", region)
    if snapshot is None:
        if source["restore_time"] == "latest-restorable":
            params["UseLatestRestorableTime"] = True
        else:
            params["RestoreToTime"] = clock.parse(source["restore_time"])
        rds.restore_db_cluster_to_point_in_time(SourceDBClusterIdentifier=source["cluster_id"], **params)
    else:
        rds.restore_db_cluster_from_snapshot(SnapshotIdentifier=snapshot, Engine=source["engine"],
                                             EngineVersion=source["engine_version"], **params)


@translate_errors
def manage_master_password(cluster_id: str, region: str | None = None) -> None:
    client("rds", region).modify_db_cluster(DBClusterIdentifier=cluster_id, ManageMasterUserPassword=True,
                                            ApplyImmediately=True)


@translate_errors
def delete_cluster(cluster_id: str, region: str | None = None) -> None:
    _delete_unless_going(
        lambda: client("rds", region).delete_db_cluster(DBClusterIdentifier=cluster_id, SkipFinalSnapshot=True),
        "DBClusterNotFoundFault", "InvalidDBClusterStateFault", lambda: describe_cluster(cluster_id, region))


@translate_errors
def delete_snapshot(snapshot_id: str, region: str | None = None) -> None:
    """Delete; a snapshot already gone counts as deleted."""
    _unless_missing("DBClusterSnapshotNotFoundFault", client("rds", region).delete_db_cluster_snapshot,
                    DBClusterSnapshotIdentifier=snapshot_id)
