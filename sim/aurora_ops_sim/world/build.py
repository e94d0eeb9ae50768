"""Building a world in moto: the stack's table and topic, KMS keys, global clusters,
clusters with their instances, snapshots, and the CPU and RPO-lag datapoints, as
the world file says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aurora_ops.core import clock
from aurora_ops.core.policy import parse_document

from ..clients import client

from .backends import global_clusters, rds_backend

STATE_TABLE = "aurora-ops-state"
CONSTANT_AFTER_NOW_MINUTES = 10  # an Express run (5 minutes) with its retries

# Optional world instance fields (extensions) -> CreateDBInstance parameters.
_INSTANCE_SETTINGS = {
    "monitoring_interval": "MonitoringInterval",
    "monitoring_role_arn": "MonitoringRoleArn",
    "performance_insights": "EnablePerformanceInsights",
    "ca_certificate": "CACertificateIdentifier",
}


@dataclass(frozen=True)
class BuiltWorld:
    """What the simulated stack needs to know of the account it was built in."""

    role_arn: str  # for the state machines and functions moto creates
    topic_arn: str  # the stack's notification topic


def build_world(world: dict) -> BuiltWorld:
    """Create everything the world lists, in the order AWS would need it."""
    builder = _Builder(world)
    return builder.build()


class _Builder:
    def __init__(self, world: dict):
        self.world = world
        self.account = world["account_id"]
        self.region = world["region"]
        self.now = clock.parse(world["now"])

    def _client(self, service: str, region: str | None = None):
        return client(service, region or self.region)

    def build(self) -> BuiltWorld:
        iam = self._client("iam")
        role = iam.create_role(RoleName="aurora-ops-simulated", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        dynamodb = self._client("dynamodb")
        dynamodb.create_table(
            TableName=STATE_TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        for held in self.world["locks"]:
            expires = clock.parse(held["expires_at"]) if "expires_at" in held else self.now + timedelta(hours=1)
            dynamodb.put_item(TableName=STATE_TABLE, Item={
                "pk": {"S": f"lock#{held['cluster']}"}, "owner": {"S": held["owner"]},
                "workflow": {"S": held.get("workflow", "scale-up")},
                "expires_at": {"N": str(int(expires.timestamp()))},
            })
        topic = self._client("sns").create_topic(Name="aurora-ops-notifications")["TopicArn"]
        for key in self.world["kms_keys"]:
            kms = self._client("kms", key["region"])
            kms.create_alias(AliasName=key["alias"], TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        for group in self.world["global_clusters"]:  # moto keeps them in us-east-1, whatever the world's region
            self._client("rds", "us-east-1").create_global_cluster(
                GlobalClusterIdentifier=group["id"], Engine=group["engine"], EngineVersion=group["engine_version"])
        for cluster in self.world["clusters"]:
            self._cluster(cluster)
        for group in self.world["global_clusters"]:  # members in the world's order
            live = global_clusters(self.account)[group["id"]]
            by_id = {member.db_cluster_identifier: member for member in live.members}
            live.members[:] = [by_id[member.lower()] for member in group["members"]]
            live.status = group.get("status", "available")
        for region in {c["region"] for c in self.world["clusters"]}:  # moto adds automated snapshots of its own
            rds_backend(self.account, region).cluster_snapshots.clear()
        for snapshot in self.world["snapshots"]:
            self._snapshot(snapshot)
        self._publish_metrics()
        return BuiltWorld(role_arn=role, topic_arn=topic)

    def _cluster(self, cluster: dict) -> None:
        rds = self._client("rds", cluster["region"])
        rds.create_db_cluster(
            DBClusterIdentifier=cluster["id"], Engine=cluster["engine"], EngineVersion=cluster["engine_version"],
            MasterUsername="simulated", MasterUserPassword="simulated-password",
            AvailabilityZones=cluster["availability_zones"],
            Tags=[{"Key": k, "Value": v} for k, v in cluster["tags"].items()],
            **({"ServerlessV2ScalingConfiguration": {"MinCapacity": cluster["serverless_v2"]["min_acu"],
                                                     "MaxCapacity": cluster["serverless_v2"]["max_acu"]}}
               if "serverless_v2" in cluster else {}),
        )
        backend = rds_backend(self.account, cluster["region"])
        backend.clusters[cluster["id"]].status = cluster["status"]
        if "global_cluster" in cluster:  # joined before its instances: a secondary gets no writer
            self._join(backend.clusters[cluster["id"]], cluster)
        family = f"{cluster['engine']}{cluster['engine_version'].split('.')[0]}"
        if cluster["engine"] == "aurora-mysql":
            family = "aurora-mysql8.0"
        for instance in sorted(cluster["instances"], key=lambda i: not i["writer"]):
            group = instance["parameter_group"]
            if group != "default" and group not in backend.db_parameter_groups:
                rds.create_db_parameter_group(DBParameterGroupName=group, DBParameterGroupFamily=family,
                                              Description="simulated")
            rds.create_db_instance(
                DBInstanceIdentifier=instance["id"], DBInstanceClass=instance["class"], Engine=cluster["engine"],
                DBClusterIdentifier=cluster["id"], AvailabilityZone=instance["az"],
                PromotionTier=instance["promotion_tier"],
                **({"DBParameterGroupName": group} if group != "default" else {}),
                **{key: instance[field] for field, key in _INSTANCE_SETTINGS.items() if field in instance},
                Tags=[{"Key": k, "Value": v} for k, v in instance["tags"].items()],
            )
            db = backend.databases[instance["id"]]
            db.status = instance["status"]
            db.instance_create_time = instance["created"]
            db.is_cluster_writer = instance["writer"]
            db.performance_insights_enabled = instance.get("performance_insights", False)  # moto ignores it

    def _snapshot(self, snapshot: dict) -> None:
        """A cluster snapshot; its cluster may be gone (a stand-in is made and removed)."""
        region = snapshot["region"]
        backend = rds_backend(self.account, region)
        rds = self._client("rds", region)
        stand_in = snapshot["cluster"] not in backend.clusters
        if stand_in:
            rds.create_db_cluster(DBClusterIdentifier=snapshot["cluster"], Engine=snapshot["engine"],
                                  EngineVersion=snapshot["engine_version"], MasterUsername="simulated",
                                  MasterUserPassword="simulated-password")
            for snapshot_id, made in list(backend.cluster_snapshots.items()):  # the stand-in's own backup
                if made.db_cluster_identifier == snapshot["cluster"] and made.snapshot_type == "automated":
                    del backend.cluster_snapshots[snapshot_id]
        rds.create_db_cluster_snapshot(DBClusterIdentifier=snapshot["cluster"],
                                       DBClusterSnapshotIdentifier=snapshot["id"])
        made = backend.cluster_snapshots[snapshot["id"]]
        made.snapshot_type = snapshot["type"]
        made.status = snapshot["status"]
        made.created = clock.parse(snapshot["created"])
        made.engine, made.engine_version = snapshot["engine"], snapshot["engine_version"]
        made.encrypted = made.storage_encrypted = snapshot["encrypted"]
        if snapshot.get("kms_key"):
            made.kms_key_id = snapshot["kms_key"]
        if stand_in:
            del backend.clusters[snapshot["cluster"]]

    def _join(self, live, cluster: dict) -> None:
        """The cluster becomes a member of its global cluster, the primary when it has a writer.
        (DescribeDBClusters shows the global cluster's identifier as its GlobalClusterIdentifier.)"""
        group = global_clusters(self.account)[cluster["global_cluster"]]
        live.global_cluster_identifier = group.global_cluster_identifier
        live.is_writer = any(instance["writer"] for instance in cluster["instances"])
        group.members.append(live)

    def _publish_metrics(self) -> None:
        """Per-minute datapoints: CPUUtilization of every instance with `cpu`, and
        AuroraGlobalDBRPOLag (AWS/RDS, dimension DBClusterIdentifier, milliseconds) of every
        cluster with `rpo_lag_ms`, in its region. A list ends at `now`; a constant covers the
        longest lookback and more, and goes on for the length of an Express run (a constant
        load stays constant while a run retries)."""
        document = parse_document(self.world["policies"])
        policies = [*document.clusters.values(), *document.policies.values()]
        minutes = max([p.scale_down.lookback_minutes for p in policies] + [5]) + 60
        for cluster in self.world["clusters"]:
            cloudwatch = self._client("cloudwatch", cluster["region"])
            if "rpo_lag_ms" in cluster:
                self._publish(cloudwatch, ("AuroraGlobalDBRPOLag", "Milliseconds"),
                              ("DBClusterIdentifier", cluster["id"]), cluster["rpo_lag_ms"], minutes)
            for instance in cluster["instances"]:
                if "cpu" in instance:
                    self._publish(cloudwatch, ("CPUUtilization", "Percent"),
                                  ("DBInstanceIdentifier", instance["id"]), instance["cpu"], minutes)

    def _publish(self, cloudwatch, metric: tuple, dimension: tuple, value, minutes: int) -> None:
        (name, unit), (key, resource) = metric, dimension
        values = value if isinstance(value, list) else [value] * (minutes + CONSTANT_AFTER_NOW_MINUTES)
        last = self.now + timedelta(minutes=0 if isinstance(value, list) else CONSTANT_AFTER_NOW_MINUTES)
        data = [{
            "MetricName": name, "Dimensions": [{"Name": key, "Value": resource}],
            "Timestamp": last - timedelta(minutes=len(values) - 1 - index), "Value": float(point), "Unit": unit,
        } for index, point in enumerate(values)]
        for start in range(0, len(data), 500):
            cloudwatch.put_metric_data(Namespace="AWS/RDS", MetricData=data[start:start + 500])
