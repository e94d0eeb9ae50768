"""FailoverDBCluster as Aurora does it. moto flips the writer the moment the call
returns; Aurora answers with the cluster as it was (`available`, the old writer
still the writer: the AWS CLI's failover-db-cluster example), then the cluster
reads `failing-over` ("A failover from the primary instance to an Aurora Replica
is being performed", Aurora User Guide, "DB cluster status") for
`timing.polls_until_failed_over` DescribeDBClusters describes of it, then
`available` with the new writer. DescribeDBInstances shows the same writer flags
throughout (instances stay `available`).

Without a target, Aurora promotes "the Aurora Replica with the better priority"
and, among replicas of one priority, "the replica that is largest in size"
(Aurora User Guide, "Fault tolerance for an Aurora DB cluster")."""

from __future__ import annotations

from aurora_ops.core.instances import SERVERLESS_CLASS, memory_gib, size_rank

from .backends import cluster_status, rds_backend


def aws_error(client, operation: str, code: str, message: str):
    """The ClientError AWS answers with (raise it)."""
    return client.exceptions.from_code(code)({"Error": {"Code": code, "Message": message}}, operation)


def cluster_instances(account: str, cluster) -> list:
    """moto's instances of a moto cluster, deleting ones included."""
    backend = rds_backend(account, cluster.region)
    return [db for db in backend.databases.values()
            if getattr(db, "db_cluster_identifier", None) == cluster.db_cluster_identifier]


def promotion_order(instances: list, max_acu: float | None = None) -> list:
    """Available readers in the order Aurora promotes them: lowest promotion tier, then
    largest class (by memory; db.serverless counts as its cluster's max_acu x 2 GiB), then id."""
    def size(db) -> float:
        try:
            return memory_gib(db.db_instance_class, max_acu)
        except ValueError:  # a class outside the memory table: its size token
            return 0 if db.db_instance_class == SERVERLESS_CLASS else 16 * 2 ** size_rank(db.db_instance_class)

    readers = [db for db in instances if not db.is_cluster_writer and db.status == "available"]
    return sorted(readers, key=lambda db: (db.promotion_tier, -size(db), db.db_instance_identifier))


def _max_acu(cluster) -> float | None:
    return (getattr(cluster, "serverless_v2_scaling_configuration", None) or {}).get("MaxCapacity")


class ClusterFailovers:
    """The failovers in progress: (region, cluster id) -> {polls, old writer, new writer}."""

    def __init__(self, account: str, timing: dict, keeps_no_writer):
        self.account = account
        self.timing = timing
        self.keeps_no_writer = keeps_no_writer  # a global secondary has no writer to fail over
        self.scripts: dict[tuple, dict] = {}

    def answer(self, client, region: str, params: dict, original) -> dict:
        """Refuse what Aurora refuses and moto doesn't, let moto refuse the rest, then
        undo moto's instant flip: the failover runs for the next describes."""
        operation = "FailoverDBCluster"
        backend = rds_backend(self.account, region)
        cluster = backend.clusters.get(params.get("DBClusterIdentifier", ""))
        if cluster is None:  # moto answers DBClusterNotFoundFault
            return original(client, operation, params)
        cluster_id = cluster.db_cluster_identifier
        status = cluster_status(cluster)
        if status != "available":
            raise aws_error(client, operation, "InvalidDBClusterStateFault",
                            f"DB cluster {cluster_id} is {status}; a failover needs an available cluster")
        if self.keeps_no_writer(cluster):
            raise aws_error(client, operation, "InvalidDBClusterStateFault",
                            f"DB cluster {cluster_id} is a secondary cluster of global cluster "
                            f"{cluster.global_cluster_identifier}: it has no writer instance to fail over")
        members = cluster_instances(self.account, cluster)
        old = next((db for db in members if db.is_cluster_writer), None)
        target_id = params.get("TargetDBInstanceIdentifier")
        if target_id:
            target = backend.databases.get(target_id)
            if target is not None and target not in members:
                raise aws_error(client, operation, "InvalidParameterValue",
                                f"DB instance {target_id} is not a member of DB cluster {cluster_id}")
            if target is not None and target is old:
                raise aws_error(client, operation, "InvalidParameterValue",
                                f"DB instance {target_id} is already the writer of DB cluster {cluster_id}")
        else:  # Aurora's choice, not moto's (the first available reader)
            readers = promotion_order(members, _max_acu(cluster))
            target_id = readers[0].db_instance_identifier if readers else None
        # moto refuses an unknown or unavailable target and a cluster with fewer than two instances
        original(client, operation, {**params, **({"TargetDBInstanceIdentifier": target_id} if target_id else {})})
        new = backend.databases[target_id]
        new.is_cluster_writer = False
        if old is not None:
            old.is_cluster_writer = True
        described = original(client, "DescribeDBClusters", {"DBClusterIdentifier": cluster_id})["DBClusters"][0]
        cluster.status = "failing-over"
        self.scripts[(region, cluster_id)] = {"polls": 0, "old": old.db_instance_identifier if old else None,
                                              "new": new.db_instance_identifier}
        return {"DBCluster": described}

    def advance(self, region: str, wanted: str | None) -> None:
        """One DescribeDBClusters describe of the clusters failing over that it returns."""
        backend = rds_backend(self.account, region)
        for (where, cluster_id), script in list(self.scripts.items()):
            if where != region or (wanted and wanted.lower() != cluster_id):
                continue
            cluster = backend.clusters.get(cluster_id)
            if cluster is None:
                del self.scripts[(where, cluster_id)]
                continue
            script["polls"] += 1
            if script["polls"] <= self.timing["polls_until_failed_over"]:
                cluster.status = "failing-over"
                continue
            old, new = backend.databases.get(script["old"] or ""), backend.databases.get(script["new"])
            if new is not None and new.status != "deleting":
                if old is not None:
                    old.is_cluster_writer = False
                new.is_cluster_writer = True
            cluster.status = "available"
            del self.scripts[(where, cluster_id)]
