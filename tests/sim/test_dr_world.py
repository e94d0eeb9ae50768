"""Disaster-recovery worlds (contract, "Disaster-recovery worlds"): the world format
(global clusters, RPO lag, Data API answers, DSQL clusters), global clusters built in
moto, and what AWS does on FailoverDBCluster, DescribeGlobalClusters,
SwitchoverGlobalCluster, FailoverGlobalCluster and RemoveFromGlobalCluster, driven
with boto3 as a handler would be, inside a Simulation."""

import contextlib
import copy
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from aurora_ops_sim import Simulation, WorldError, load_world, patches
from aurora_ops_sim.invariants import check_invariants

ARN = "arn:aws:rds:{}:123456789012:cluster:{}"
EAST, WEST = ARN.format("us-east-1", "orders"), ARN.format("us-west-2", "orders-west")
DR_WORLD = {
    "region": "us-east-1",
    "now": "2026-11-24T12:00:00Z",
    "clusters": [
        {"id": "orders", "engine": "aurora-postgresql", "engine_version": "16.4",
         "data": {"SELECT count(*) FROM orders": [[1042]]},
         "instances": [
             {"id": "orders-1", "class": "db.r6g.large", "writer": True, "promotion_tier": 1},
             {"id": "orders-2", "class": "db.r6g.xlarge", "promotion_tier": 2},
             {"id": "orders-3", "class": "db.r6g.large", "promotion_tier": 2},
         ]},
        {"id": "orders-west", "region": "us-west-2", "engine": "aurora-postgresql", "engine_version": "16.4",
         "rpo_lag_ms": 800,
         "instances": [
             {"id": "west-1", "class": "db.r6g.large", "az": "us-west-2a", "promotion_tier": 3},
             {"id": "west-2", "class": "db.r6g.large", "az": "us-west-2b", "promotion_tier": 1},
         ]},
        {"id": "billing", "engine": "aurora-postgresql", "engine_version": "16.4",
         "instances": [{"id": "billing-1", "class": "db.r6g.large", "writer": True}]},
    ],
    "global_clusters": [{"id": "orders-global", "engine": "aurora-postgresql", "engine_version": "16.4",
                         "members": ["orders", "orders-west"]}],
    "snapshots": [{"id": "orders-snap", "cluster": "orders", "data": {"SELECT 1": [[1]]}}],
    "dsql_clusters": [{"id": "abc123", "region": "us-east-1", "witness_region": "us-west-2", "peers": ["def456"]}],
}


@pytest.fixture
def dr_world():
    return copy.deepcopy(DR_WORLD)


@contextlib.contextmanager
def simulated(world):
    """A Simulation whose boto3 calls go through the simulator as a handler's do."""
    with Simulation(world, echo_handler_output=False) as simulation:
        patches.in_handler.on = True
        try:
            yield simulation
        finally:
            patches.in_handler.on = False


def rds(region="us-east-1"):
    return boto3.client("rds", region_name=region)


def refused(code, call, *args, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    assert caught.value.response["Error"]["Code"] == code, caught.value.response["Error"]
    return caught.value.response["Error"]["Message"]


def cluster(cluster_id, region="us-east-1"):
    return rds(region).describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]


def writers(described):
    return {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in described["DBClusterMembers"]}


def instance_statuses(cluster_id, region="us-east-1"):
    """DescribeDBInstances' statuses (AWS's DBInstance has no writer flag: DBClusterMembers has it)."""
    listed = rds(region).describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}])
    assert not any("IsClusterWriter" in i for i in listed["DBInstances"])
    return {i["DBInstanceIdentifier"]: i["DBInstanceStatus"] for i in listed["DBInstances"]}


def global_cluster(region="us-east-1"):
    return rds(region).describe_global_clusters(GlobalClusterIdentifier="orders-global")["GlobalClusters"][0]


def members(described):
    return {m["DBClusterArn"]: m["IsWriter"] for m in described["GlobalClusterMembers"]}


# ------------------------------------------------------------------ the world format
def test_defaults_fill_in_membership_synchronization_and_timing(dr_world):
    del dr_world["global_clusters"][0]["engine"], dr_world["global_clusters"][0]["engine_version"]
    dr_world["clusters"][1]["engine_version"] = "16.6"
    world = load_world(dr_world)
    orders, west, billing = world["clusters"]
    assert world["global_clusters"] == [{"id": "orders-global", "members": ["orders", "orders-west"],
                                         "engine": "aurora-postgresql", "engine_version": "16.4"}]  # the primary's
    assert (orders["global_cluster"], west["global_cluster"]) == ("orders-global", "orders-global")
    assert (orders["synchronization_status"], west["synchronization_status"]) == ("connected", "connected")
    assert "global_cluster" not in billing and "synchronization_status" not in billing
    assert west["engine_version"] == "16.6"  # a member keeps its own version
    assert world["timing"]["polls_until_failed_over"] == 1
    assert world["dsql_clusters"] == [{"id": "abc123", "region": "us-east-1", "witness_region": "us-west-2",
                                       "peers": ["def456"], "status": "ACTIVE"}]
    assert orders["data"] == {"SELECT count(*) FROM orders": [[1042]]}
    assert world["snapshots"][0]["data"] == {"SELECT 1": [[1]]}
    assert load_world({"clusters": []})["global_clusters"] == [] == load_world({})["dsql_clusters"]


def _edit(path_and_value):
    def edit(world):
        for path, value in path_and_value:
            target = world
            for key in path[:-1]:
                target = target[key]
            if value is None:
                del target[path[-1]]
            else:
                target[path[-1]] = value
    return edit


@pytest.mark.parametrize("edit,message", [
    (_edit([(("global_clusters", 0, "members", 1), "nope")]),
     r"world\.global_clusters\[0\]\.members\[1\]: 'nope' is not a cluster of the world"),
    (_edit([(("clusters", 2, "global_cluster"), "other-global")]),
     r"world\.clusters\[2\]\.global_cluster: 'other-global' names no global cluster"),
    (_edit([(("clusters", 2, "global_cluster"), "orders-global")]),
     r"world\.clusters\[2\]\.global_cluster: 'orders-global' does not list 'billing' among its members"),
    (_edit([(("clusters", 1, "instances", 0, "writer"), True)]),
     r"world\.global_clusters\[0\]\.members: exactly one member must have a writer instance \(the primary\); "
     r"found 2: orders, orders-west"),
    (_edit([(("clusters", 0, "instances", 0, "writer"), False)]),
     r"world\.global_clusters\[0\]\.members: exactly one member must have a writer instance \(the primary\); found 0"),
    (_edit([(("clusters", 1, "engine"), "aurora-mysql")]),
     r"world\.global_clusters\[0\]\.members\[1\]: 'orders-west' runs aurora-mysql, the global cluster aurora-postgresql"),
    (_edit([(("global_clusters", 0, "members"), ["orders", "orders-west", "orders"])]),
     r"world\.global_clusters\[0\]\.members\[2\]: 'orders' is already a member of 'orders-global'"),
    (_edit([(("global_clusters",), [*DR_WORLD["global_clusters"], {"id": "Orders-Global", "members": ["billing"]}])]),
     r"world\.global_clusters\[1\]\.id: 'Orders-Global' is used twice"),
    (_edit([(("clusters", 2, "synchronization_status"), "connected")]),
     r"world\.clusters\[2\]\.synchronization_status: only a member of a global cluster has one"),
    (_edit([(("clusters", 1, "synchronization_status"), "lagging")]), r"world\.clusters\[1\]\.synchronization_status"),
    (_edit([(("clusters", 1, "rpo_lag_ms"), -5)]), r"world\.clusters\[1\]\.rpo_lag_ms"),
    (_edit([(("clusters", 0, "data"), {"SELECT 1": [1]})]), r"world\.clusters\[0\]\.data\.SELECT 1\[0\]"),
    (_edit([(("snapshots", 0, "data"), {"SELECT 1": "one"})]), r"world\.snapshots\[0\]\.data\.SELECT 1"),
    (_edit([(("global_clusters", 0, "members"), [])]), r"world\.global_clusters\[0\]\.members"),
    (_edit([(("dsql_clusters", 0, "peers"), "def456")]), r"world\.dsql_clusters\[0\]\.peers"),
    (_edit([(("timing",), {"polls_until_failed_over": -1})]), r"world\.timing\.polls_until_failed_over"),
    (_edit([(("clusters", 1, "instances", 0, "writer"), True), (("clusters", 1, "instances", 1, "writer"), True)]),
     r"world\.clusters\[1\]\.instances: at most one instance may have writer: true \(found 2\)"),
])
def test_a_world_that_breaks_the_dr_rules_is_refused_naming_the_field(dr_world, edit, message):
    edit(dr_world)
    with pytest.raises(WorldError, match=message):
        load_world(dr_world)


def test_only_a_global_secondary_may_have_no_writer(dr_world):
    assert load_world(dr_world)  # orders-west: readers only
    dr_world["global_clusters"] = []
    for listed in dr_world["clusters"]:
        listed.pop("global_cluster", None)
    with pytest.raises(WorldError, match=r"world\.clusters\[1\]\.instances: exactly one instance must have writer"):
        load_world(dr_world)


# ------------------------------------------------------------------ built in moto
def test_describe_global_clusters_answers_aws_shape_in_every_region(dr_world):
    dr_world["clusters"][1]["synchronization_status"] = "pending-resync"
    with simulated(dr_world):
        for region in ("us-east-1", "us-west-2", "eu-west-1"):
            described = global_cluster(region)
            assert described["GlobalClusterArn"] == "arn:aws:rds::123456789012:global-cluster:orders-global"
            assert (described["Status"], described["Engine"], described["EngineVersion"]) == \
                ("available", "aurora-postgresql", "16.4")
            assert "FailoverState" not in described
            assert described["GlobalClusterMembers"] == [
                {"DBClusterArn": EAST, "Readers": [WEST], "IsWriter": True, "SynchronizationStatus": "connected"},
                {"DBClusterArn": WEST, "Readers": [], "IsWriter": False, "GlobalWriteForwardingStatus": "disabled",
                 "SynchronizationStatus": "pending-resync"}]
        listed = rds("us-west-2").describe_global_clusters()["GlobalClusters"]
        assert [g["GlobalClusterIdentifier"] for g in listed] == ["orders-global"]


def test_describe_global_clusters_filters_as_aws_does(dr_world):
    dr_world["clusters"][2]["global_cluster"] = "billing-global"
    dr_world["global_clusters"].append({"id": "billing-global", "members": ["billing"]})
    with simulated(dr_world):
        assert [g["GlobalClusterIdentifier"] for g in rds().describe_global_clusters()["GlobalClusters"]] == \
            ["orders-global", "billing-global"]
        assert [g["GlobalClusterIdentifier"] for g in rds().describe_global_clusters(
            GlobalClusterIdentifier="billing-global")["GlobalClusters"]] == ["billing-global"]
        for value in (WEST, "orders-west"):
            assert [g["GlobalClusterIdentifier"] for g in rds().describe_global_clusters(
                Filters=[{"Name": "db-cluster-id", "Values": [value]}])["GlobalClusters"]] == ["orders-global"]
        refused("GlobalClusterNotFoundFault", rds("us-west-2").describe_global_clusters,
                GlobalClusterIdentifier="nope")


def test_a_member_names_its_global_cluster_and_a_secondary_has_no_writer(dr_world):
    with simulated(dr_world):
        assert cluster("orders")["GlobalClusterIdentifier"] == "orders-global"
        west = cluster("orders-west", "us-west-2")
        assert west["GlobalClusterIdentifier"] == "orders-global"
        assert writers(west) == {"west-1": False, "west-2": False}  # moto would have made one the writer
        assert instance_statuses("orders-west", "us-west-2") == {"west-1": "available", "west-2": "available"}
        assert "GlobalClusterIdentifier" not in cluster("billing")
        # a reader created in a secondary stays a reader
        rds("us-west-2").create_db_instance(DBInstanceIdentifier="west-3", DBInstanceClass="db.r6g.large",
                                            Engine="aurora-postgresql", DBClusterIdentifier="orders-west")
        assert writers(cluster("orders-west", "us-west-2"))["west-3"] is False


def _rpo(region, cluster_id, minutes=5, end="2026-11-24T12:00:00+00:00"):
    end = datetime.fromisoformat(end)
    answer = boto3.client("cloudwatch", region_name=region).get_metric_data(
        MetricDataQueries=[{"Id": "lag", "MetricStat": {
            "Metric": {"Namespace": "AWS/RDS", "MetricName": "AuroraGlobalDBRPOLag",
                       "Dimensions": [{"Name": "DBClusterIdentifier", "Value": cluster_id}]},
            "Period": 60, "Stat": "Maximum", "Unit": "Milliseconds"}}],
        StartTime=end - timedelta(minutes=minutes), EndTime=end)
    result = answer["MetricDataResults"][0]
    return [v for _, v in sorted(zip(result["Timestamps"], result["Values"]))]


def test_rpo_lag_is_published_per_minute_in_the_clusters_region(dr_world):
    dr_world["clusters"][0]["rpo_lag_ms"] = [100, 200, 300, 400]  # oldest first, the last at `now`
    with simulated(dr_world):
        assert _rpo("us-west-2", "orders-west") == [800.0] * 5
        assert _rpo("us-west-2", "orders-west", end="2026-11-24T12:09:00+00:00") == [800.0] * 5  # a run goes on
        assert _rpo("us-east-1", "orders-west") == []
        assert _rpo("us-east-1", "orders", end="2026-11-24T12:00:30+00:00") == [100.0, 200.0, 300.0, 400.0]
        assert _rpo("us-east-1", "billing") == []


# ------------------------------------------------------------------ FailoverDBCluster
def test_a_cluster_failover_runs_for_the_next_describes_then_the_chosen_reader_writes(dr_world):
    dr_world["timing"] = {"polls_until_failed_over": 2}
    with simulated(dr_world):
        answered = rds().failover_db_cluster(DBClusterIdentifier="orders")["DBCluster"]
        old = {"orders-1": True, "orders-2": False, "orders-3": False}
        assert answered["Status"] == "available" and writers(answered) == old  # as AWS answers the call
        for _ in range(2):
            described = cluster("orders")
            assert described["Status"] == "failing-over" and writers(described) == old
            assert instance_statuses("orders") == dict.fromkeys(old, "available")
        described = cluster("orders")
        # lowest promotion tier, then the largest class: orders-2 (xlarge) over orders-3 (large)
        new = {"orders-1": False, "orders-2": True, "orders-3": False}
        assert described["Status"] == "available" and writers(described) == new
        assert instance_statuses("orders") == dict.fromkeys(new, "available")
        assert cluster("orders")["Status"] == "available"


def test_a_cluster_failover_to_a_target_promotes_it(dr_world):
    with simulated(dr_world):
        rds().failover_db_cluster(DBClusterIdentifier="orders", TargetDBInstanceIdentifier="orders-3")
        assert cluster("orders")["Status"] == "failing-over"
        assert writers(cluster("orders")) == {"orders-1": False, "orders-2": False, "orders-3": True}
        assert rds().failover_db_cluster(DBClusterIdentifier="orders")  # available again: another may start


def test_a_cluster_failover_is_refused_as_aws_refuses_it(dr_world):
    dr_world["clusters"].append({"id": "busy", "engine": "aurora-postgresql", "status": "modifying", "instances": [
        {"id": "busy-1", "class": "db.r6g.large", "writer": True}, {"id": "busy-2", "class": "db.r6g.large"}]})
    dr_world["clusters"].append({"id": "single", "engine": "aurora-postgresql", "instances": [
        {"id": "single-1", "class": "db.r6g.large", "writer": True}]})
    dr_world["clusters"][0]["instances"][2]["status"] = "rebooting"
    with simulated(dr_world):
        failover = rds().failover_db_cluster
        assert "is modifying" in refused("InvalidDBClusterStateFault", failover, DBClusterIdentifier="busy")
        refused("DBClusterNotFoundFault", failover, DBClusterIdentifier="nope")
        refused("InvalidDBClusterStateFault", failover, DBClusterIdentifier="single")  # moto's own: one instance
        refused("InvalidParameterValue", failover, DBClusterIdentifier="orders", TargetDBInstanceIdentifier="nope")
        assert "not a member of DB cluster orders" in refused(
            "InvalidParameterValue", failover, DBClusterIdentifier="orders", TargetDBInstanceIdentifier="billing-1")
        assert "already the writer" in refused(
            "InvalidParameterValue", failover, DBClusterIdentifier="orders", TargetDBInstanceIdentifier="orders-1")
        refused("InvalidDBInstanceState", failover, DBClusterIdentifier="orders", TargetDBInstanceIdentifier="orders-3")
        assert "secondary cluster of global cluster orders-global" in refused(
            "InvalidDBClusterStateFault", rds("us-west-2").failover_db_cluster, DBClusterIdentifier="orders-west")
        assert writers(cluster("orders"))["orders-1"] is True  # nothing of that moved the writer
        failover(DBClusterIdentifier="orders")
        assert "is failing-over" in refused("InvalidDBClusterStateFault", failover, DBClusterIdentifier="orders")


# ------------------------------------------------------------------ switchover and failover of a global cluster
@pytest.mark.parametrize("call,status,data_loss", [
    (lambda: rds("us-east-1").switchover_global_cluster(GlobalClusterIdentifier="orders-global",
                                                        TargetDbClusterIdentifier=WEST), "switching-over", False),
    (lambda: rds("us-west-2").failover_global_cluster(GlobalClusterIdentifier="orders-global",
                                                      TargetDbClusterIdentifier=WEST, AllowDataLoss=True),
     "failing-over", True),
    (lambda: rds("us-west-2").failover_global_cluster(GlobalClusterIdentifier="orders-global",
                                                      TargetDbClusterIdentifier=WEST), "switching-over", False),
    (lambda: rds("us-west-2").failover_global_cluster(GlobalClusterIdentifier="orders-global",
                                                      TargetDbClusterIdentifier=WEST, Switchover=True),
     "switching-over", False),
])
def test_a_global_switchover_or_failover_runs_then_the_target_is_the_primary(dr_world, call, status, data_loss):
    dr_world["timing"] = {"polls_until_failed_over": 2}
    with simulated(dr_world):
        answered = call()["GlobalCluster"]
        state = {"FromDbClusterArn": EAST, "ToDbClusterArn": WEST, "IsDataLossAllowed": data_loss}
        assert answered["Status"] == status and answered["FailoverState"] == {"Status": "pending", **state}
        assert members(answered) == {EAST: True, WEST: False}
        for region in ("us-west-2", "us-east-1"):
            described = global_cluster(region)
            assert described["Status"] == status and described["FailoverState"] == {"Status": status, **state}
            assert members(described) == {EAST: True, WEST: False}
            assert writers(cluster("orders"))["orders-1"] is True
            assert not any(writers(cluster("orders-west", "us-west-2")).values())
        described = global_cluster()
        assert described["Status"] == "available" and "FailoverState" not in described
        assert members(described) == {EAST: False, WEST: True}
        assert described["GlobalClusterMembers"][0] == {
            "DBClusterArn": EAST, "Readers": [], "IsWriter": False, "GlobalWriteForwardingStatus": "disabled",
            "SynchronizationStatus": "connected"}
        assert described["GlobalClusterMembers"][1]["Readers"] == [EAST]
        assert writers(cluster("orders-west", "us-west-2")) == {"west-1": False, "west-2": True}  # the lowest tier
        assert instance_statuses("orders-west", "us-west-2")["west-2"] == "available"
        assert not any(writers(cluster("orders")).values())
        assert (cluster("orders")["Status"], cluster("orders-west", "us-west-2")["Status"]) == ("available", "available")


def test_a_switchover_back_makes_the_old_primary_primary_again(dr_world):
    dr_world["timing"] = {"polls_until_failed_over": 0}
    with simulated(dr_world):
        rds().switchover_global_cluster(GlobalClusterIdentifier="orders-global", TargetDbClusterIdentifier=WEST)
        assert members(global_cluster()) == {EAST: False, WEST: True}
        rds().switchover_global_cluster(GlobalClusterIdentifier="orders-global", TargetDbClusterIdentifier=EAST)
        assert members(global_cluster()) == {EAST: True, WEST: False}
        assert writers(cluster("orders")) == {"orders-1": True, "orders-2": False, "orders-3": False}


def test_a_global_switchover_or_failover_is_refused_as_aws_refuses_it(dr_world):
    dr_world["clusters"][1]["engine_version"] = "16.6"
    with simulated(dr_world):
        east, west = rds("us-east-1"), rds("us-west-2")
        for start in (west.switchover_global_cluster, west.failover_global_cluster):
            refused("GlobalClusterNotFoundFault", start, GlobalClusterIdentifier="nope", TargetDbClusterIdentifier=WEST)
            refused("DBClusterNotFoundFault", start, GlobalClusterIdentifier="orders-global",
                    TargetDbClusterIdentifier=ARN.format("us-west-2", "nope"))
            assert "not a member" in refused("DBClusterNotFoundFault", start, GlobalClusterIdentifier="orders-global",
                                             TargetDbClusterIdentifier=ARN.format("us-east-1", "billing"))
            assert "already the primary" in refused("InvalidGlobalClusterStateFault", start,
                                                     GlobalClusterIdentifier="orders-global",
                                                     TargetDbClusterIdentifier=EAST)
            assert "same engine version" in refused("InvalidGlobalClusterStateFault", start,
                                                    GlobalClusterIdentifier="orders-global",
                                                    TargetDbClusterIdentifier=WEST)
        assert "can't be specified together" in refused(
            "InvalidParameterCombination", east.failover_global_cluster, GlobalClusterIdentifier="orders-global",
            TargetDbClusterIdentifier=WEST, AllowDataLoss=True, Switchover=True)
        assert global_cluster()["Status"] == "available" and members(global_cluster()) == {EAST: True, WEST: False}


def test_a_switchover_needs_every_secondary_connected_a_failover_does_not(dr_world):
    dr_world["clusters"][1]["synchronization_status"] = "pending-resync"
    with simulated(dr_world):
        west = rds("us-west-2")
        assert "orders-west (pending-resync)" in refused(
            "InvalidGlobalClusterStateFault", west.switchover_global_cluster,
            GlobalClusterIdentifier="orders-global", TargetDbClusterIdentifier=WEST)
        refused("InvalidGlobalClusterStateFault", west.failover_global_cluster,
                GlobalClusterIdentifier="orders-global", TargetDbClusterIdentifier=WEST)  # a switchover too
        answered = west.failover_global_cluster(GlobalClusterIdentifier="orders-global",
                                                TargetDbClusterIdentifier=WEST, AllowDataLoss=True)
        assert answered["GlobalCluster"]["Status"] == "failing-over"


def test_a_second_operation_or_an_unavailable_target_is_refused(dr_world):
    dr_world["clusters"][1]["status"] = "modifying"
    with simulated(dr_world):
        west = rds("us-west-2")
        assert "is modifying" in refused("InvalidDBClusterStateFault", west.switchover_global_cluster,
                                         GlobalClusterIdentifier="orders-global", TargetDbClusterIdentifier=WEST)
    dr_world["clusters"][1]["status"] = "available"
    with simulated(dr_world):
        west = rds("us-west-2")
        west.switchover_global_cluster(GlobalClusterIdentifier="orders-global", TargetDbClusterIdentifier=WEST)
        assert "already in progress" in refused("InvalidGlobalClusterStateFault", west.failover_global_cluster,
                                                GlobalClusterIdentifier="orders-global",
                                                TargetDbClusterIdentifier=WEST, AllowDataLoss=True)
        assert "in progress" in refused("InvalidGlobalClusterStateFault", west.remove_from_global_cluster,
                                        GlobalClusterIdentifier="orders-global", DbClusterIdentifier=WEST)


# ------------------------------------------------------------------ RemoveFromGlobalCluster
def test_a_detached_secondary_leaves_at_once_promotes_then_writes(dr_world):
    dr_world["timing"] = {"polls_until_failed_over": 2}
    with simulated(dr_world):
        answered = rds("us-west-2").remove_from_global_cluster(GlobalClusterIdentifier="orders-global",
                                                              DbClusterIdentifier=WEST)["GlobalCluster"]
        assert members(answered) == {EAST: True, WEST: False}  # AWS answers with the global cluster as it was
        assert members(global_cluster("us-west-2")) == {EAST: True}
        assert global_cluster()["GlobalClusterMembers"][0]["Readers"] == []
        for _ in range(2):
            described = cluster("orders-west", "us-west-2")
            assert described["Status"] == "promoting" and "GlobalClusterIdentifier" not in described
            assert not any(writers(described).values())
        described = cluster("orders-west", "us-west-2")
        assert described["Status"] == "available" and writers(described) == {"west-1": False, "west-2": True}
        assert instance_statuses("orders-west", "us-west-2")["west-2"] == "available"
        assert writers(cluster("orders"))["orders-1"] is True  # the primary is untouched


def test_a_detach_is_refused_as_aws_refuses_it(dr_world):
    with simulated(dr_world):
        remove = rds().remove_from_global_cluster
        refused("GlobalClusterNotFoundFault", remove, GlobalClusterIdentifier="nope", DbClusterIdentifier=WEST)
        assert "is not found in global cluster orders-global" in refused(
            "InvalidParameterValue", remove, GlobalClusterIdentifier="orders-global",
            DbClusterIdentifier=ARN.format("us-east-1", "billing"))
        refused("DBClusterNotFoundFault", remove, GlobalClusterIdentifier="orders-global",
                DbClusterIdentifier=ARN.format("us-east-1", "nope"))
        assert "while there are other global cluster members" in refused(
            "InvalidGlobalClusterStateFault", remove, GlobalClusterIdentifier="orders-global", DbClusterIdentifier=EAST)
        rds("us-west-2").remove_from_global_cluster(GlobalClusterIdentifier="orders-global", DbClusterIdentifier=WEST)
        refused("InvalidParameterValue", rds("us-west-2").remove_from_global_cluster,
                GlobalClusterIdentifier="orders-global", DbClusterIdentifier=WEST)  # not a member any more
        remove(GlobalClusterIdentifier="orders-global", DbClusterIdentifier=EAST)  # the last member may go
        assert global_cluster()["GlobalClusterMembers"] == []
        assert cluster("orders")["Status"] == "available" and writers(cluster("orders"))["orders-1"] is True


def test_a_cluster_restored_from_a_member_is_standalone(dr_world):
    with simulated(dr_world):
        rds().restore_db_cluster_to_point_in_time(DBClusterIdentifier="orders-copy", SourceDBClusterIdentifier="orders",
                                                  UseLatestRestorableTime=True)
        rds().restore_db_cluster_from_snapshot(DBClusterIdentifier="orders-copy-2", SnapshotIdentifier="orders-snap",
                                               Engine="aurora-postgresql")
        assert members(global_cluster()) == {EAST: True, WEST: False}
        assert "GlobalClusterIdentifier" not in cluster("orders-copy")
        assert "GlobalClusterIdentifier" not in cluster("orders-copy-2")


# ------------------------------------------------------------------ the world after
def test_the_dump_shows_global_clusters_as_they_are_the_primary_first(dr_world):
    dr_world["timing"] = {"polls_until_failed_over": 0}
    with simulated(dr_world) as simulation:
        before = simulation.dump_world()
        assert before["global_clusters"] == [{"id": "orders-global", "engine": "aurora-postgresql",
                                              "engine_version": "16.4", "status": "available",
                                              "members": ["orders", "orders-west"]}]
        assert before["dsql_clusters"] == load_world(DR_WORLD)["dsql_clusters"]
        assert before["snapshots"][0]["data"] == {"SELECT 1": [[1]]}
        orders, west = before["clusters"][0], before["clusters"][1]
        assert (orders["data"], west["rpo_lag_ms"], west["synchronization_status"]) == \
            (DR_WORLD["clusters"][0]["data"], 800, "connected")
        rds().switchover_global_cluster(GlobalClusterIdentifier="orders-global", TargetDbClusterIdentifier=WEST)
        global_cluster()
        switched = simulation.dump_world()
        assert switched["global_clusters"][0]["members"] == ["orders-west", "orders"]
        by_id = {c["id"]: {i["id"]: i["writer"] for i in c["instances"]} for c in switched["clusters"]}
        assert by_id["orders"] == {"orders-1": False, "orders-2": False, "orders-3": False}
        assert by_id["orders-west"] == {"west-1": False, "west-2": True}
        assert load_world(switched)  # the world after is a world
        rds().remove_from_global_cluster(GlobalClusterIdentifier="orders-global", DbClusterIdentifier=EAST)
        cluster("orders")
        detached = simulation.dump_world()
        assert detached["global_clusters"][0]["members"] == ["orders-west"]
        orders = next(c for c in detached["clusters"] if c["id"] == "orders")
        assert "global_cluster" not in orders and "synchronization_status" not in orders
        assert {i["id"]: i["writer"] for i in orders["instances"]}["orders-1"] is True
        assert load_world(detached)


# ------------------------------------------------------------------ chaos invariant 5 for failover
def _report(world_after, calls, name="sim-1"):
    return {"execution_name": name, "status": "SUCCEEDED", "output": {}, "cause": None, "world": world_after,
            "aws_calls": [{"service": "rds", "operation": operation, "params": params, "error": error}
                          for operation, params, error in calls]}


def _worlds():
    before = load_world(DR_WORLD)
    for listed in before["clusters"]:
        for instance in listed["instances"]:
            instance.setdefault("tags", {})
    before["locks"] = []
    return before, copy.deepcopy(before)


FAILOVER = ("FailoverDBCluster", {"DBClusterIdentifier": "orders"}, None)
SWITCHOVER = ("SwitchoverGlobalCluster", {"GlobalClusterIdentifier": "orders-global",
                                          "TargetDbClusterIdentifier": WEST}, None)


@pytest.mark.parametrize("calls,execution_input,violations", [
    ([FAILOVER], {}, []),
    ([FAILOVER, FAILOVER], {}, ["the writer of cluster orders changed 2 times (at most 1)"]),
    ([FAILOVER, FAILOVER], {"failback": True}, []),
    ([FAILOVER, FAILOVER, FAILOVER], {"failback": True}, ["the writer of cluster orders changed 3 times (at most 2)"]),
    ([FAILOVER, ("FailoverDBCluster", {"DBClusterIdentifier": "orders"}, "InvalidDBClusterStateFault")], {}, []),
    ([SWITCHOVER, SWITCHOVER], {}, ["the writer of global cluster orders-global changed 2 times (at most 1)"]),
    ([SWITCHOVER, ("FailoverGlobalCluster", {"GlobalClusterIdentifier": "Orders-Global"}, None)], {"failback": True},
     []),
    ([("RemoveFromGlobalCluster", {"GlobalClusterIdentifier": "orders-global", "DbClusterIdentifier": WEST}, None)] * 2,
     {}, ["the writer of cluster orders-west changed 2 times (at most 1)"]),
])
def test_a_failover_changes_the_writer_at_most_once(calls, execution_input, violations):
    before, after = _worlds()
    found = check_invariants("failover", execution_input, before, _report(after, calls))
    assert [detail for invariant, detail in found if invariant == "bounded-action"] == violations


def test_the_duplicate_execution_counts_with_the_first():
    before, after = _worlds()
    report = _report(after, [FAILOVER])
    report["duplicate"] = {"execution_name": "sim-2", "status": "SUCCEEDED", "output": {}, "cause": None,
                           "aws_calls": report["aws_calls"]}
    assert check_invariants("failover", {}, before, report) == [
        ("bounded-action", "the writer of cluster orders changed 2 times (at most 1)")]


def test_a_writer_change_without_a_call_counts_once():
    before, after = _worlds()
    for instance in after["clusters"][0]["instances"]:
        instance["writer"] = instance["id"] == "orders-2"
    assert check_invariants("failover", {}, before, _report(after, [FAILOVER])) == []
    assert check_invariants("failover", {}, before, _report(after, [FAILOVER, FAILOVER])) == [
        ("bounded-action", "the writer of cluster orders changed 2 times (at most 1)")]
    assert check_invariants("scale-up", {}, before, _report(after, [FAILOVER, FAILOVER])) == []
