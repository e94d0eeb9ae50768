"""dr-readiness in the simulator: global clusters and Aurora DSQL clusters, each check
passing and failing; AWS errors mid-run; a fleet read in batches."""

import pytest

from aurora_ops_sim import simulate
from conftest import mutating_calls
from readiness_helpers import cluster_of, dsql_of, example, resources, told

ALL = {"trigger": "schedule"}


def run(world, execution_input=ALL):
    return simulate("dr-readiness", world, execution_input, echo_handler_output=False)


def check_states(report, kind, resource_id):
    return resources(report)[(kind, resource_id)]["checks"]


# ------------------------------------------------------------ global clusters
def test_a_healthy_global_cluster_is_ready():
    report = run(example())
    assert set(check_states(report, "global", "orders-global").values()) == {"pass"}
    assert resources(report)[("global", "orders-global")]["ready"] is True


@pytest.mark.parametrize("change,failed,detail", [
    ({"rpo_lag_ms": 45000}, "rpo-lag-within-target", "orders-west: 45 s; target 30 s"),
    ({"rpo_lag_ms": [100, 200, 31000, 300, 400, 500]}, "rpo-lag-within-target", "orders-west: 31 s"),
    ({"synchronization_status": "pending-resync"}, "secondaries-connected", "orders-west is pending-resync"),
    ({"engine_version": "16.2"}, "engine-versions-match", "orders 16.4, orders-west 16.2"),
    ({"instances": []}, "secondaries-have-instances", "orders-west has 0 instances"),
])
def test_each_global_check_fails_on_its_own(change, failed, detail):
    world = example()
    cluster_of(world, "orders-west").update(change)
    report = run(world)
    glob = resources(report)[("global", "orders-global")]
    assert glob["failed"] == [failed] and detail in glob["problems"][failed], glob
    assert told(report)[("global", "orders-global")] is False


def test_a_secondary_without_lag_data_is_not_ready():
    world = example()
    del cluster_of(world, "orders-west")["rpo_lag_ms"]
    report = run(world)
    assert "no AuroraGlobalDBRPOLag datapoint in the last 5 minutes" in \
        resources(report)[("global", "orders-global")]["problems"]["rpo-lag-within-target"]


def test_the_strictest_rpo_target_of_the_members_applies():
    world = example()
    world["policies"]["clusters"]["orders"]["dr"] = {"rpo_target_seconds": 0.5}
    report = run(world)
    assert resources(report)[("global", "orders-global")]["failed"] == ["rpo-lag-within-target"]


def test_a_global_cluster_none_of_whose_members_is_covered_is_not_checked():
    world = example()
    world["policies"]["clusters"] = {"billing": "standard"}
    assert ("global", "orders-global") not in resources(run(world))


def test_a_policy_naming_a_secondary_of_another_region_checks_it_through_its_global_cluster():
    world = example()
    world["policies"]["clusters"] = {"orders-west": "standard"}
    report = run(world)
    assert set(resources(report)) == {("global", "orders-global"), ("dsql", "abc123")}


# ------------------------------------------------------------------ Aurora DSQL
def test_an_idle_dsql_cluster_with_an_active_peer_and_a_witness_is_ready():
    report = run(example())
    abc = resources(report)[("dsql", "abc123")]
    assert abc["ready"] is True and set(abc["checks"].values()) == {"pass"}
    gets = [(c["region"], c["params"]["identifier"]) for c in report["aws_calls"] if c["operation"] == "GetCluster"]
    assert gets == [("us-east-1", "abc123"), ("us-east-2", "def456")]  # the peer in its own region


def test_a_dsql_peer_that_is_gone_fails():
    world = example()
    world["dsql_clusters"] = [d for d in world["dsql_clusters"] if d["id"] != "def456"]
    report = run(world)
    abc = resources(report)[("dsql", "abc123")]
    assert abc["failed"] == ["dsql-peers-active"] and abc["problems"]["dsql-peers-active"].endswith("is gone")
    assert [c["error"] for c in report["aws_calls"] if c["operation"] == "GetCluster"] == \
        [None, "ResourceNotFoundException"]


@pytest.mark.parametrize("status", ["INACTIVE", "FAILED", "DELETING"])
def test_a_dsql_peer_that_is_not_active_fails(status):
    world = example()
    dsql_of(world, "def456")["status"] = status
    report = run(world)
    assert resources(report)[("dsql", "abc123")]["problems"]["dsql-peers-active"] == f"def456 (us-east-2) {status}"


def test_a_dsql_cluster_without_a_witness_region_fails():
    world = example()
    del dsql_of(world, "abc123")["witness_region"]
    report = run(world)
    assert resources(report)[("dsql", "abc123")]["failed"] == ["dsql-witness-region-set"]


def test_a_dsql_cluster_that_is_not_active_or_does_not_exist_fails():
    world = example()
    dsql_of(world, "abc123")["status"] = "PENDING_SETUP"
    assert resources(run(world))[("dsql", "abc123")]["failed"] == ["dsql-cluster-active"]
    world["policies"]["dsql_clusters"] = [{"id": "nope99"}]
    missing = resources(run(world))[("dsql", "nope99")]
    assert missing["problems"] == {"dsql-cluster-active": "nope99 does not exist in us-east-1"}


# ------------------------------------------------------------ AWS errors mid-run
def test_throttling_is_retried_and_the_run_succeeds():
    world = example()
    world["faults"] = {"api_errors": [{"operation": "DescribeDBClusterSnapshots", "code": "Throttling", "times": 3}]}
    report = run(world)
    assert report["status"] == "SUCCEEDED" and report["states"] == ["Assess", "Record", "Recorded", "Done"]
    assert sum(1 for c in report["aws_calls"] if c["operation"] == "DescribeDBClusterSnapshots") == 4


def test_an_aws_error_in_the_stacks_region_fails_the_run_with_one_line_and_records_nothing():
    world = example()
    world["faults"] = {"api_errors": [{"operation": "DescribeGlobalClusters", "code": "AccessDenied", "times": 1}]}
    report = run(world)
    assert (report["status"], report["error"]) == ("FAILED", "AccessDenied")
    assert report["cause"] == "simulated fault: AccessDenied"
    assert report["states"] == ["Assess", "Unassessed", "Record", "Recorded", "Failed"]
    assert mutating_calls(report) == []


def test_another_region_that_does_not_answer_makes_its_checks_errors_and_the_rest_is_checked():
    world = example()
    world["faults"] = {"api_errors": [{"service": "cloudwatch", "operation": "GetMetricData",
                                       "code": "EndpointConnectionError", "times": 10}]}
    report = run(world)
    assert report["status"] == "SUCCEEDED"
    glob = resources(report)[("global", "orders-global")]
    assert glob["checks"]["rpo-lag-within-target"] == "error" and glob["ready"] is False
    assert "AwsUnavailable" in glob["problems"]["rpo-lag-within-target"]
    assert resources(report)[("dsql", "abc123")]["ready"] is True


def test_a_dsql_region_that_refuses_makes_the_peer_check_an_error():
    world = example()
    world["policies"]["dsql_clusters"] = [{"id": "def456", "region": "us-east-2"}]
    world["faults"] = {"api_errors": [{"service": "dsql", "operation": "GetCluster", "code": "AccessDeniedException",
                                       "times": 1}]}
    report = run(world)
    found = resources(report)[("dsql", "def456")]
    assert found["checks"]["dsql-cluster-active"] == "error" and "AccessDeniedException" in \
        found["problems"]["dsql-cluster-active"]


# ------------------------------------------------------------------ a fleet
def fleet(n: int) -> dict:
    """`n` tag-selected clusters, every fourth the primary of a global cluster with a
    secondary in us-west-2, and two DSQL clusters."""
    world = {"now": "2026-11-24T12:00:00Z", "clusters": [], "snapshots": [], "global_clusters": [],
             "policies": {"policies": {"standard": {"restore_drill": {"enabled": False}}}, "clusters": {},
                          "dsql_clusters": [{"id": "abc123"}, {"id": "ghi789"}]},
             "dsql_clusters": [{"id": "abc123", "witness_region": "us-west-2", "peers": ["def456"]},
                               {"id": "def456", "region": "us-east-2", "witness_region": "us-west-2",
                                "peers": ["abc123"]},
                               {"id": "ghi789", "witness_region": "us-west-2", "peers": ["jkl012"]},
                               {"id": "jkl012", "region": "us-east-2", "witness_region": "us-west-2",
                                "peers": ["ghi789"]}]}
    for index in range(n):
        name = f"fleet-{index:03d}"
        cluster = {"id": name, "engine": "aurora-postgresql", "tags": {"aurora-ops:policy": "standard"},
                   "instances": [{"id": f"{name}-1", "class": "db.r6g.large", "az": "us-east-1a", "writer": True},
                                 {"id": f"{name}-2", "class": "db.r6g.large", "az": "us-east-1b"},
                                 {"id": f"{name}-3", "class": "db.r6g.large", "az": "us-east-1c"}]}
        world["clusters"].append(cluster)
        world["snapshots"].append({"id": f"{name}-auto", "cluster": name, "type": "automated",
                                   "created": "2026-11-24T03:00:00Z"})
        if index % 4 == 0:
            west = f"{name}-west"
            world["clusters"].append({"id": west, "region": "us-west-2", "engine": "aurora-postgresql",
                                      "rpo_lag_ms": 500, "instances": [
                                          {"id": f"{west}-1", "class": "db.r6g.large", "az": "us-west-2a"}]})
            world["global_clusters"].append({"id": f"{name}-global", "members": [name, west]})
    return world


def test_a_fleet_is_read_in_batches_and_told_in_one_message():
    report = run(fleet(40))
    assert report["status"] == "SUCCEEDED", report["cause"]
    counts = report["output"]["counts"]
    assert counts == {"resources": 52, "ready": 52, "not_ready": 0}  # 40 clusters, 10 global, 2 DSQL
    reads = {}
    for call in report["aws_calls"]:
        if call["function"] == "DrReadinessAssessFunction":
            reads[call["operation"]] = reads.get(call["operation"], 0) + 1
    # one call per page or per region whatever the fleet's size; DSQL: one per cluster and peer
    assert reads == {"DescribeDBClusters": 2, "DescribeGlobalClusters": 1, "DescribeDBInstances": 2,
                     "DescribeDBClusterSnapshots": 1, "GetMetricData": 1, "GetCluster": 4}
    assert report["notifications"] == []  # every resource ready on first sight: nothing to tell
    assert report["simulated_seconds"] < 60
