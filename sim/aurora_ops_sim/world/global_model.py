"""Aurora global databases as AWS runs them; moto keeps their members (us-east-1's
backend) and answers DescribeGlobalClusters' shape, the rest is answered here.

- DescribeGlobalClusters, in any region (global clusters belong to none): filtered by
  GlobalClusterIdentifier (GlobalClusterNotFoundFault) and by `db-cluster-id`, each
  member with SynchronizationStatus, and a secondary with GlobalWriteForwardingStatus,
  as in the AWS CLI's examples (moto ignores the filter and has no synchronization).
- SwitchoverGlobalCluster / FailoverGlobalCluster (moto: NotImplementedError): the
  answer shows Status `switching-over` / `failing-over` and FailoverState `pending`
  (the AWS CLI's switchover-global-cluster and failover-global-cluster examples);
  the next `timing.polls_until_failed_over` describes show FailoverState in that
  status too, then it is gone, Status `available`, the target the writer member
  with its first instance in promotion order the writer, and the old primary a
  secondary whose writer is a reader. The members' own cluster statuses are not
  documented to change and don't.
- RemoveFromGlobalCluster, in any region (moto: only in us-east-1): the answer is the
  global cluster as it was (the AWS CLI's example lists the member still), the member
  is gone from it at once, and a detached secondary reads `promoting` ("A read replica
  is being promoted to a standalone DB cluster", Aurora User Guide, "DB cluster
  status"; terraform-provider-aws#40333 waits it out after a removal) for
  `polls_until_failed_over` DescribeDBClusters describes, then `available` with a writer.

Refusals: see `_start` and `_remove`; each cites why."""

from __future__ import annotations

from .backends import cluster_status, global_clusters, rds_backend
from .failover_model import aws_error, cluster_instances, promotion_order

_STATUS = {"switchover": "switching-over", "failover": "failing-over"}


def _key(cluster) -> tuple:
    return cluster.region, cluster.db_cluster_identifier


class GlobalClusters:
    def __init__(self, world: dict):
        self.account = world["account_id"]
        self.timing = world["timing"]
        self.sync = {(c["region"], c["id"].lower()): c["synchronization_status"]
                     for c in world["clusters"] if "synchronization_status" in c}
        self.operations: dict[str, dict] = {}  # global cluster id -> the switchover or failover running
        self.promoting: dict[tuple, int] = {}  # (region, cluster id) of a detached secondary -> polls

    def keeps_no_writer(self, cluster) -> bool:
        """A global secondary, or a detached one still promoting, has no writer instance."""
        if cluster is None:
            return False
        if _key(cluster) in self.promoting:
            return True
        return bool(getattr(cluster, "global_cluster_identifier", None)) and not getattr(cluster, "is_writer", True)

    def standalone(self, cluster) -> None:
        """A restored cluster is standalone; moto's restores copy the source's
        GlobalClusterIdentifier and join it to the source's global cluster."""
        group = global_clusters(self.account).get(getattr(cluster, "global_cluster_identifier", None) or "")
        if group is not None and cluster in group.members:
            group.members.remove(cluster)
        cluster.global_cluster_identifier = None
        cluster.is_writer = False

    def before(self, client, region: str, operation: str, params: dict, original) -> dict | None:
        if operation == "DescribeDBClusters":
            self._advance_promotions(region, params.get("DBClusterIdentifier"))
            return None
        answer = {"DescribeGlobalClusters": self._describe, "SwitchoverGlobalCluster": self._switchover,
                  "FailoverGlobalCluster": self._failover, "RemoveFromGlobalCluster": self._remove}.get(operation)
        return answer(client, params, original) if answer else None

    # ------------------------------------------------------------ answers
    def _describe(self, client, params: dict, original) -> dict:
        live = global_clusters(self.account)
        wanted = params.get("GlobalClusterIdentifier")
        if wanted and wanted not in live:
            raise aws_error(client, "DescribeGlobalClusters", "GlobalClusterNotFoundFault",
                            f"Global cluster {wanted} not found")
        for global_id in ([wanted] if wanted else list(live)):
            self._advance(live[global_id])
        clusters = [{v for v in f.get("Values", [])} for f in params.get("Filters", []) if f["Name"] == "db-cluster-id"]
        return {"GlobalClusters": [
            self._render(described) for described in original(client, "DescribeGlobalClusters", {})["GlobalClusters"]
            if (not wanted or described["GlobalClusterIdentifier"] == wanted.lower())
            and all(self._has_member(live[described["GlobalClusterIdentifier"]], values) for values in clusters)]}

    def _switchover(self, client, params: dict, original) -> dict:
        return self._start(client, "SwitchoverGlobalCluster", params, original, "switchover")

    def _failover(self, client, params: dict, original) -> dict:
        # AllowDataLoss and Switchover "Can't be specified together"; without AllowDataLoss
        # "the global database cluster operation defaults to a switchover" (API reference)
        if params.get("AllowDataLoss") is not None and params.get("Switchover") is not None:
            raise aws_error(client, "FailoverGlobalCluster", "InvalidParameterCombination",
                            "AllowDataLoss and Switchover can't be specified together")
        kind = "failover" if params.get("AllowDataLoss") else "switchover"
        return self._start(client, "FailoverGlobalCluster", params, original, kind)

    def _start(self, client, operation: str, params: dict, original, kind: str) -> dict:
        group = self._group(client, operation, params["GlobalClusterIdentifier"])
        target = self._cluster(client, operation, params["TargetDbClusterIdentifier"])
        global_id = group.global_cluster_identifier

        def refuse(code: str, message: str):
            return aws_error(client, operation, code, message)

        if target not in group.members:
            raise refuse("DBClusterNotFoundFault", f"DB cluster {target.db_cluster_arn} is not a member of "
                                                   f"global cluster {global_id}")
        if global_id in self.operations:
            raise refuse("InvalidGlobalClusterStateFault", f"Global cluster {global_id} is {group.status}: a "
                                                           "switchover or failover is already in progress")
        primary = next((member for member in group.members if member.is_writer), None)
        if target is primary:
            raise refuse("InvalidGlobalClusterStateFault", f"DB cluster {target.db_cluster_arn} is already the "
                                                           f"primary cluster of global cluster {global_id}")
        # "Aurora global databases can't fail over from a primary to a secondary DB cluster when the
        # primary and secondary have different DB engine versions" (Aurora User Guide, "Using
        # failover in an Amazon Aurora global database")
        if primary is not None and primary.engine_version != target.engine_version:
            raise refuse("InvalidGlobalClusterStateFault", f"The primary cluster runs {primary.engine_version} and "
                                                           f"{target.db_cluster_identifier} {target.engine_version}: "
                                                           "members must run the same engine version")
        if kind == "switchover":
            # "All secondary clusters are synchronized with the primary at the beginning of the
            # process" (SwitchoverGlobalCluster, API reference): each must be connected
            lagging = [f"{m.db_cluster_identifier} ({self.sync.get(_key(m), 'connected')})"
                       for m in group.members if not m.is_writer and self.sync.get(_key(m), "connected") != "connected"]
            if lagging:
                raise refuse("InvalidGlobalClusterStateFault", f"Secondary clusters not synchronized: "
                                                               f"{', '.join(lagging)}; a switchover needs all connected")
            if primary is not None and cluster_status(primary) != "available":
                raise refuse("InvalidDBClusterStateFault", f"DB cluster {primary.db_cluster_identifier} is "
                                                           f"{cluster_status(primary)}; a switchover needs it available")
        # "The secondary DB cluster must be available" (Aurora User Guide, managed failover, console)
        if cluster_status(target) != "available":
            raise refuse("InvalidDBClusterStateFault", f"DB cluster {target.db_cluster_identifier} is "
                                                       f"{cluster_status(target)}; the target must be available")
        if not promotion_order(cluster_instances(self.account, target)):
            raise refuse("InvalidDBClusterStateFault", f"DB cluster {target.db_cluster_identifier} has no "
                                                       "available DB instance to promote")
        group.status = _STATUS[kind]
        self.operations[global_id] = {"kind": kind, "state": "pending", "polls": 0, "to": target.db_cluster_arn,
                                      "from": primary.db_cluster_arn if primary is not None else None}
        return {"GlobalCluster": self._described(client, original, global_id)}

    def _remove(self, client, params: dict, original) -> dict:
        operation = "RemoveFromGlobalCluster"
        group = self._group(client, operation, params["GlobalClusterIdentifier"])
        cluster = self._cluster(client, operation, params["DbClusterIdentifier"])
        global_id = group.global_cluster_identifier
        if cluster not in group.members:  # AWS's answer, as terraform-provider-aws handles it
            raise aws_error(client, operation, "InvalidParameterValue", f"The specified cluster "
                            f"{cluster.db_cluster_arn} is not found in global cluster {global_id}")
        if global_id in self.operations:
            raise aws_error(client, operation, "InvalidGlobalClusterStateFault", f"Global cluster {global_id} is "
                            f"{group.status}: a switchover or failover is in progress")
        # "If any secondary clusters are still associated with the global database, you can't
        # remove the primary cluster" (Aurora User Guide, "Removing a cluster from an Aurora global database")
        if cluster.is_writer and len(group.members) > 1:
            raise aws_error(client, operation, "InvalidGlobalClusterStateFault", f"Unable to remove the primary "
                            f"cluster of global cluster {global_id} while there are other global cluster members")
        described = self._described(client, original, global_id)
        group.members.remove(cluster)
        cluster.global_cluster_identifier = None
        self.sync.pop(_key(cluster), None)
        if not cluster.is_writer:  # a secondary is promoted to a standalone cluster with a writer
            cluster.status = "promoting"
            self.promoting[_key(cluster)] = 0
        cluster.is_writer = False
        return {"GlobalCluster": described}

    # ------------------------------------------------------------ state
    def _advance(self, group) -> None:
        """One describe of a global cluster: its switchover or failover moves on, or ends."""
        running = self.operations.get(group.global_cluster_identifier)
        if running is None:
            return
        running["polls"] += 1
        if running["polls"] <= self.timing["polls_until_failed_over"]:
            running["state"] = group.status
            return
        for member in group.members:
            if member.db_cluster_arn == running["from"]:  # demoted: its writer becomes a reader
                member.is_writer = False
                for db in cluster_instances(self.account, member):
                    db.is_cluster_writer = False
            if member.db_cluster_arn == running["to"]:  # promoted: its first instance in promotion order writes
                member.is_writer = True
                chosen = promotion_order(cluster_instances(self.account, member))
                if chosen:
                    chosen[0].is_cluster_writer = True
        group.status = "available"
        del self.operations[group.global_cluster_identifier]

    def _advance_promotions(self, region: str, wanted: str | None) -> None:
        backend = rds_backend(self.account, region)
        for key in list(self.promoting):
            where, cluster_id = key
            if where != region or (wanted and wanted.lower() != cluster_id):
                continue
            cluster = backend.clusters.get(cluster_id)
            self.promoting[key] += 1
            if cluster is not None and self.promoting[key] <= self.timing["polls_until_failed_over"]:
                cluster.status = "promoting"
                continue
            del self.promoting[key]
            if cluster is not None:
                cluster.status = "available"
                chosen = promotion_order(cluster_instances(self.account, cluster))
                if chosen:
                    chosen[0].is_cluster_writer = True

    # ------------------------------------------------------------ helpers
    def _group(self, client, operation: str, global_id: str):
        group = global_clusters(self.account).get(global_id)
        if group is None:
            raise aws_error(client, operation, "GlobalClusterNotFoundFault", f"Global cluster {global_id} not found")
        return group

    def _cluster(self, client, operation: str, identifier: str):
        """A cluster named by ARN (its region) or by identifier (the caller's region)."""
        parts = identifier.split(":")
        region, cluster_id = (parts[3], parts[-1]) if identifier.startswith("arn:") and len(parts) >= 7 \
            else (client.meta.region_name, identifier)
        cluster = rds_backend(self.account, region).clusters.get(cluster_id)
        if cluster is None:
            raise aws_error(client, operation, "DBClusterNotFoundFault", f"DBCluster {identifier} not found.")
        return cluster

    @staticmethod
    def _has_member(group, values: set) -> bool:
        return any(member.db_cluster_arn in values or member.db_cluster_identifier in {v.lower() for v in values}
                   for member in group.members)

    def _described(self, client, original, global_id: str) -> dict:
        listed = original(client, "DescribeGlobalClusters", {})["GlobalClusters"]
        return self._render(next(g for g in listed if g["GlobalClusterIdentifier"] == global_id))

    def _render(self, described: dict) -> dict:
        """moto's description with AWS's members (and FailoverState while an operation runs)."""
        group = global_clusters(self.account)[described["GlobalClusterIdentifier"]]
        secondaries = [member.db_cluster_arn for member in group.members if not member.is_writer]
        members = []
        for member in group.members:
            entry = {"DBClusterArn": member.db_cluster_arn, "Readers": secondaries if member.is_writer else [],
                     "IsWriter": bool(member.is_writer)}
            if not member.is_writer:
                entry["GlobalWriteForwardingStatus"] = "disabled"
            entry["SynchronizationStatus"] = self.sync.get(_key(member), "connected")
            members.append(entry)
        rendered = {**described, "Status": group.status, "GlobalClusterMembers": members}
        running = self.operations.get(group.global_cluster_identifier)
        if running:
            rendered["FailoverState"] = {"Status": running["state"], "FromDbClusterArn": running["from"],
                                         "ToDbClusterArn": running["to"],
                                         "IsDataLossAllowed": running["kind"] == "failover"}
        return rendered
