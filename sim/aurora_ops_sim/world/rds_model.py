"""What real RDS does that moto doesn't, around each RDS call a handler makes.

moto's RDS is instant: here created instances, restored clusters and snapshot
copies pass through `creating`/`copying` for `timing.polls_until_available`
describes (status scripts), deleted instances stay `deleting` for
`timing.polls_until_deleted` describes, a deleted writer fails over, cross-region
copies land in the target region, and the restorable window is the world's.
Calls RDS refuses and moto accepts are refused here: a cluster restored or
created onto an existing identifier, a delete of an instance already
`deleting`, a sixth snapshot copy in progress to one region, a db.serverless
instance in a cluster without a Serverless v2 scaling configuration.
FailoverDBCluster (failover_model) and global clusters (global_model) are
answered by their own models, hooked in here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aurora_ops.core import clock

from ..faults import Faults

# "You can have up to five snapshot copy requests in progress to a single destination
# Region per account" (Aurora User Guide, "DB cluster snapshot copying", Limitations).
MAX_COPIES_IN_PROGRESS = 5
_CREATES_CLUSTER = ("CreateDBCluster", "RestoreDBClusterFromSnapshot", "RestoreDBClusterToPointInTime")
# "Clusters that use Aurora Serverless v2 must have a capacity range specified" (Aurora User
# Guide, "Requirements and limitations for Aurora Serverless v2"). AWS refuses CreateDBInstance
# with InvalidDBClusterStateFault (one of its errors in botocore's RDS service model) and this
# message, as reported in github.com/cloudposse/terraform-aws-rds-cluster/pull/181.
NO_SERVERLESS_V2 = ("Set the Serverless v2 scaling configuration on the parent DB cluster before creating a "
                    "Serverless v2 DB instance.")
from .backends import rds_backend
from .failover_model import ClusterFailovers
from .global_model import GlobalClusters


class RdsModel:
    def __init__(self, world: dict, faults: Faults, now: Callable[[], datetime]):
        self.world = world
        self.account = world["account_id"]
        self.timing = world["timing"]
        self.faults = faults
        self.now = now
        self.instances: dict[str, dict] = {}  # instance id -> status script for created/deleted instances
        self.clusters: dict[tuple, dict] = {}  # (region, id) -> status script for restored clusters
        self.snapshots: dict[tuple, dict] = {}  # (region, id) -> status script for snapshot copies
        self._doomed = None  # the instance a DeleteDBInstance is about to remove
        self.globals = GlobalClusters(world)
        self.failovers = ClusterFailovers(self.account, self.timing, self.globals.keeps_no_writer)

    def _backend(self, region: str):
        return rds_backend(self.account, region)

    # ------------------------------------------------------------ around a call
    def before(self, client, region: str, operation: str, params: dict, original) -> dict | None:
        """Advance the status scripts a describe reads; answer the calls moto gets
        wrong (its response is returned instead of calling moto)."""
        self._refuse_what_rds_refuses(client, region, operation, params)
        answered = self.globals.before(client, region, operation, params, original)
        if answered is not None:
            return answered
        if operation == "FailoverDBCluster":
            return self.failovers.answer(client, region, params, original)
        if operation == "DescribeOrderableDBInstanceOptions":
            return self._orderable_options(region, params)
        if operation == "DescribeDBInstances":
            self._advance_instances(region, params)
        if operation == "DescribeDBClusters":
            self._advance(self.clusters, region, params.get("DBClusterIdentifier"),
                          self._backend(region).clusters, "creating")
            self.failovers.advance(region, params.get("DBClusterIdentifier"))
        if operation == "DescribeDBClusterSnapshots":
            self._advance(self.snapshots, region, params.get("DBClusterSnapshotIdentifier"),
                          self._backend(region).cluster_snapshots, "copying")
        if operation == "CopyDBClusterSnapshot" and \
                params["SourceDBClusterSnapshotIdentifier"].split(":")[3:4] not in ([], [region]):
            result = self._copy_across_regions(client, region, params, original)
            self._copied(region, params["TargetDBClusterSnapshotIdentifier"])
            return result
        self._doomed = None
        if operation == "DeleteDBInstance":
            self._doomed = self._backend(region).databases.get(params.get("DBInstanceIdentifier"))
        return None

    def after(self, region: str, operation: str, params: dict, result: dict) -> None:
        """Start the status script of what the call created or deleted."""
        if operation == "CreateDBInstance":
            self._created(region, params)
        elif operation == "DeleteDBInstance":
            self._deleted(region, self._doomed)
        elif operation in ("RestoreDBClusterFromSnapshot", "RestoreDBClusterToPointInTime"):
            self._restored(region, params["DBClusterIdentifier"])
        elif operation == "CopyDBClusterSnapshot":
            self._copied(region, params["TargetDBClusterSnapshotIdentifier"])
        elif operation == "DescribeDBClusters":
            self._restorable_window(region, result)

    # ------------------------------------------------------------ answers
    def _refuse_what_rds_refuses(self, client, region: str, operation: str, params: dict) -> None:
        backend = self._backend(region)
        if operation in _CREATES_CLUSTER and params.get("DBClusterIdentifier") in backend.clusters:
            raise _error(client, operation, "DBClusterAlreadyExistsFault",
                         f"DB cluster {params['DBClusterIdentifier']} already exists")
        if operation == "CreateDBInstance" and params.get("DBInstanceClass") == "db.serverless":
            cluster = backend.clusters.get(params.get("DBClusterIdentifier"))
            acus = getattr(cluster, "serverless_v2_scaling_configuration", None) or {}
            if cluster is not None and acus.get("MaxCapacity") is None:
                raise _error(client, operation, "InvalidDBClusterStateFault", NO_SERVERLESS_V2)
        if operation == "DeleteDBInstance":
            db = backend.databases.get(params.get("DBInstanceIdentifier"))
            if db is not None and db.status == "deleting":
                raise _error(client, operation, "InvalidDBInstanceState",
                             f"Instance {db.db_instance_identifier} is already being deleted.")
        if operation == "CopyDBClusterSnapshot":
            copying = sum(1 for snapshot in backend.cluster_snapshots.values() if snapshot.status == "copying")
            if copying >= MAX_COPIES_IN_PROGRESS:
                raise _error(client, operation, "SnapshotQuotaExceeded",
                             f"{copying} snapshot copies are already in progress to {region}; "
                             f"at most {MAX_COPIES_IN_PROGRESS} at a time")

    def _orderable_options(self, region: str, params: dict) -> dict:
        """Every class is orderable in every AZ of its region unless the world says otherwise."""
        instance_class = params["DBInstanceClass"]
        azs = [f"{region}{s}" for s in "abcdef"]
        azs = [az for az in azs if not self.faults.not_orderable(instance_class, az)]
        options = [{
            "Engine": params.get("Engine"), "EngineVersion": params.get("EngineVersion"),
            "DBInstanceClass": instance_class, "Vpc": True,
            "AvailabilityZones": [{"Name": az} for az in azs],
        }] if azs else []
        return {"OrderableDBInstanceOptions": options}

    def _copy_across_regions(self, client, region: str, params: dict, original) -> dict:
        """moto copies snapshots within a region only: make the copy in the target region here."""
        from moto.rds.models import DBClusterSnapshot

        source_arn = params["SourceDBClusterSnapshotIdentifier"]
        source = self._backend(source_arn.split(":")[3]).get_db_cluster_snapshot(source_arn.rsplit(":", 1)[-1])
        target = self._backend(region)
        kms = target._validate_kms_key(params["KmsKeyId"]) if params.get("KmsKeyId") else None
        if source.encrypted and not kms:
            raise client.exceptions.from_code("InvalidParameterValue")(
                {"Error": {"Code": "InvalidParameterValue",
                           "Message": "KmsKeyId is required to copy an encrypted snapshot across regions"}},
                "CopyDBClusterSnapshot")
        target_id = params["TargetDBClusterSnapshotIdentifier"]
        if target_id in target.cluster_snapshots:
            raise client.exceptions.from_code("DBClusterSnapshotAlreadyExistsFault")(
                {"Error": {"Code": "DBClusterSnapshotAlreadyExistsFault", "Message": target_id}}, "CopyDBClusterSnapshot")
        copy = DBClusterSnapshot(target, source.cluster, target_id, tags=params.get("Tags", []), kms_key_id=kms)
        copy.engine, copy.engine_version = source.engine, source.engine_version
        target.cluster_snapshots[target_id] = copy
        described = original(client, "DescribeDBClusterSnapshots", {"DBClusterSnapshotIdentifier": target_id})
        return {"DBClusterSnapshot": described["DBClusterSnapshots"][0]}

    def _restorable_window(self, region: str, result: dict) -> None:
        """moto reports `now` as the latest restorable time; the world says otherwise."""
        known = {(c["region"], c["id"]): c for c in self.world["clusters"]}
        for cluster in result.get("DBClusters", []):
            world_cluster = known.get((region, cluster["DBClusterIdentifier"]))
            if world_cluster:
                cluster["EarliestRestorableTime"] = clock.parse(world_cluster["earliest_restorable_time"])
                cluster["LatestRestorableTime"] = clock.parse(world_cluster["latest_restorable_time"])

    # ------------------------------------------------------------ status scripts
    def _created(self, region: str, params: dict) -> None:
        instance_id = params["DBInstanceIdentifier"]
        lost = self.faults.capacity_lost(params.get("DBInstanceClass"), params.get("AvailabilityZone"))
        self.instances[instance_id] = {"region": region, "phase": "creating", "polls": 0,
                                       "final": "insufficient-capacity" if lost else "available"}
        backend = self._backend(region)
        db = backend.databases[instance_id]
        db.status = "creating"
        members = [m for m in backend.databases.values()
                   if getattr(m, "db_cluster_identifier", None) == db.db_cluster_identifier and m is not db]
        for member in members:  # moto re-designates a deleting instance when nothing else is left
            if member.status == "deleting":
                member.is_cluster_writer = False
        if not any(m.is_cluster_writer for m in members) and \
                not self.globals.keeps_no_writer(backend.clusters.get(db.db_cluster_identifier)):
            db.is_cluster_writer = True  # a cluster without a live writer gets this one (not a global secondary)
        db.instance_create_time = clock.iso(self.now())
        db.performance_insights_enabled = params.get("EnablePerformanceInsights", False)  # moto ignores it

    def _deleted(self, region: str, db) -> None:
        """moto deletes at once; keep the instance in `deleting` for polls_until_deleted describes."""
        instance_id = db.db_instance_identifier
        self.instances.pop(instance_id, None)
        if getattr(db, "is_cluster_writer", False):  # Aurora fails over to a remaining instance
            db.is_cluster_writer = False
            backend = self._backend(region)
            others = sorted((m for m in backend.databases.values() if m is not db and m.status != "deleting"
                             and getattr(m, "db_cluster_identifier", None) == db.db_cluster_identifier),
                            key=lambda m: m.promotion_tier)
            if others:
                others[0].is_cluster_writer = True
        if self.timing["polls_until_deleted"] > 0:
            self._backend(region).databases[instance_id] = db
            db.status = "deleting"
            self.instances[instance_id] = {"region": region, "phase": "deleting", "polls": 0}

    def _restored(self, region: str, cluster_id: str) -> None:
        final = self.faults.restore_final_status(cluster_id)
        backend = self._backend(region)
        restored = backend.clusters[cluster_id]
        restored.status = "creating"
        self.globals.standalone(restored)
        if not all(az.startswith(region) for az in restored.availability_zones or []):
            # moto copies the source's AZs; the target's subnet group is in its own region
            restored.availability_zones = [f"{region}{letter}" for letter in "abc"]
        for snapshot_id, snapshot in list(backend.cluster_snapshots.items()):  # moto's own automated backup
            if snapshot.db_cluster_identifier == cluster_id and snapshot.snapshot_type == "automated":
                del backend.cluster_snapshots[snapshot_id]
        self.clusters[(region, cluster_id)] = {"polls": 0, "final": final}

    def _copied(self, region: str, snapshot_id: str) -> None:
        self._backend(region).cluster_snapshots[snapshot_id].status = "copying"
        self.snapshots[(region, snapshot_id)] = {"polls": 0, "final": "available"}

    def _advance(self, scripts: dict, region: str, wanted: str | None, live: dict, pending: str) -> None:
        """One describe of the tracked resources in `live` (moto's dict) that it returns:
        `pending` for polls_until_available describes, then the script's final status."""
        for (where, resource_id), script in list(scripts.items()):
            if where != region or wanted not in (None, resource_id) or resource_id not in live:
                continue
            script["polls"] += 1
            # set on every poll: moto's own "creating" turns "available" after one read
            if script["polls"] <= self.timing["polls_until_available"]:
                live[resource_id].status = pending
            else:
                live[resource_id].status = script["final"]
                del scripts[(where, resource_id)]

    def _advance_instances(self, region: str, params: dict) -> None:
        backend = self._backend(region)
        wanted_id = params.get("DBInstanceIdentifier")
        clusters = {v.rsplit(":", 1)[-1] for f in params.get("Filters", []) if f["Name"] == "db-cluster-id"
                    for v in f["Values"]}
        for instance_id, script in list(self.instances.items()):
            db = backend.databases.get(instance_id)
            if script["region"] != region or db is None:
                continue
            if wanted_id and wanted_id != instance_id:
                continue
            if clusters and db.db_cluster_identifier not in clusters:
                continue
            script["polls"] += 1
            if script["phase"] == "creating":
                limit = self.timing["polls_until_available"]
                db.status = "creating" if script["polls"] <= limit else script["final"]
                if script["polls"] > limit:
                    del self.instances[instance_id]
            elif script["polls"] > self.timing["polls_until_deleted"]:
                del backend.databases[instance_id]
                del self.instances[instance_id]


def _error(client, operation: str, code: str, message: str):
    return client.exceptions.from_code(code)({"Error": {"Code": code, "Message": message}}, operation)
