"""Every scale-down rule, shown by running the real ASL and handlers in the simulator."""

import copy
import json

import pytest

from aurora_ops.core.tags import CREATED_BY_TAG
from aurora_ops_sim import Simulation, simulate
from conftest import calls, instance_ids, mutating_calls

TAG = {CREATED_BY_TAG: "sim-scale-up-001"}
WORLD = {
    "now": "2026-11-24T12:00:00Z",
    "policies": {
        "orders": {"min_readers": 1, "scale_down": {"cpu_threshold": 20, "lookback_minutes": 5, "cooldown_minutes": 15}},
    },
    "clusters": [{
        "id": "orders", "engine": "aurora-postgresql",
        "availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"],
        "instances": [
            {"id": "orders-1", "class": "db.r6g.large", "az": "us-east-1a", "writer": True, "cpu": 60},
            {"id": "orders-2", "class": "db.r6g.large", "az": "us-east-1b", "cpu": 5},
            {"id": "orders-aops-0000aaaa-1", "class": "db.r6g.large", "az": "us-east-1b", "cpu": 5,
             "created": "2026-11-24T10:00:00Z", "tags": TAG},
            {"id": "orders-aops-0000aaaa-2", "class": "db.r6g.large", "az": "us-east-1c", "cpu": 5,
             "created": "2026-11-24T11:00:00Z", "tags": TAG},
        ],
    }],
}
ADDED_IN_B = "orders-aops-0000aaaa-1"
# The numbers a decision was made on: each available reader's peak CPU over the window, against the threshold.
EVIDENCE = {"peak_cpu": {"orders-2": 5, ADDED_IN_B: 5, "orders-aops-0000aaaa-2": 5},
            "datapoints": {"orders-2": 5, ADDED_IN_B: 5, "orders-aops-0000aaaa-2": 5},
            "threshold": 20, "lookback_minutes": 5, "readers_per_az": {"us-east-1b": 2, "us-east-1c": 1}}


@pytest.fixture
def world():
    return copy.deepcopy(WORLD)


def run(world, execution_input=None):
    return simulate("scale-down", world, {} if execution_input is None else execution_input)


def the_decision(report):
    (decision,) = report["output"]["decisions"]
    return decision


def run_intercepting(world, intercept):
    """Run scale-down with `intercept(client, operation, params, call_through)` seeing every AWS call."""
    with Simulation(world) as simulation:
        original = simulation.api_call
        simulation.api_call = lambda client, operation, params, call: intercept(
            client, operation, params, lambda: original(client, operation, params, call))
        return simulation.run("scale-down", {})


def reader(world, instance_id):
    return next(i for i in world["clusters"][0]["instances"] if i["id"] == instance_id)


def test_low_load_removes_one_added_reader_and_waits_until_it_is_gone(world):
    world["timing"] = {"polls_until_deleted": 3}
    report = run(world)
    assert report["status"] == "SUCCEEDED"
    assert the_decision(report) == {"cluster_id": "orders", "action": "deleted", "instance_id": ADDED_IN_B,
                                    "reason": "load-low", "evidence": EVIDENCE}
    assert [c["params"]["DBInstanceIdentifier"] for c in calls(report, "DeleteDBInstance")] == [ADDED_IN_B]
    assert ADDED_IN_B not in instance_ids(report["world"])
    assert report["states"].count("WaitForRemoval") == 3
    assert report["world"]["locks"] == []


# 1. load ------------------------------------------------------------------------------
@pytest.mark.parametrize("cpu,reason", [
    ([5, 5, 5, 5, 20], "load-not-low"),  # at the threshold, in the newest minute
    ([25, 5, 5, 5, 5], "load-not-low"),  # the oldest minute of the window
    ([5, 5, 5, 5], "insufficient-data"),  # one minute missing
])
def test_every_datapoint_of_every_reader_must_be_below_the_threshold(world, cpu, reason):
    reader(world, "orders-2")["cpu"] = cpu
    report = run(world)
    assert (the_decision(report)["action"], the_decision(report)["reason"]) == ("none", reason)
    assert mutating_calls(report) == []


def test_a_hot_minute_before_the_window_does_not_count(world):
    reader(world, "orders-2")["cpu"] = [90, 5, 5, 5, 5, 5]
    assert the_decision(run(world))["action"] == "deleted"


def test_a_reader_with_no_datapoints_at_all_is_insufficient_data(world):
    del reader(world, "orders-2")["cpu"]
    assert the_decision(run(world))["reason"] == "insufficient-data"


# 2. guards ------------------------------------------------------------------------------
def test_cluster_not_available(world):
    world["clusters"][0]["status"] = "backing-up"
    report = run(world)
    assert the_decision(report)["reason"] == "cluster-not-available"
    assert mutating_calls(report) == []


def test_lock_held_means_no_action(world):
    world["locks"] = [{"cluster": "orders", "owner": "a-scale-up", "expires_at": "2026-11-24T13:00:00Z"}]
    report = run(world)
    assert (the_decision(report)["action"], the_decision(report)["reason"]) == ("none", "in-progress")
    assert calls(report, "DeleteDBInstance") == []
    assert [lock["owner"] for lock in report["world"]["locks"]] == ["a-scale-up"]


def test_cooldown_after_this_system_created_a_reader(world):
    reader(world, "orders-aops-0000aaaa-2")["created"] = "2026-11-24T11:50:00Z"
    report = run(world)
    assert the_decision(report)["reason"] == "cooldown"
    assert mutating_calls(report) == []


def test_cooldown_after_this_system_removed_a_reader(world):
    world["clusters"][0]["instances"].append(
        {"id": "orders-aops-0000aaaa-3", "class": "db.r6g.large", "az": "us-east-1b", "cpu": 5,
         "created": "2026-11-24T09:00:00Z", "tags": TAG})
    with Simulation(world) as simulation:
        first = simulation.run("scale-down", {})
        second = simulation.run("scale-down", {})
    assert the_decision(first)["action"] == "deleted"
    assert (the_decision(second)["action"], the_decision(second)["reason"]) == ("none", "cooldown")


# 3. candidates ------------------------------------------------------------------------------
def test_only_tagged_readers_are_candidates_never_the_writer_or_native_autoscaling(world):
    instances = world["clusters"][0]["instances"]
    for added in instances[2:]:
        added["tags"] = {}
    instances.append({"id": "application-autoscaling-1a2b", "class": "db.r6g.large", "az": "us-east-1c",
                      "cpu": 1, "tags": TAG})
    instances[0]["tags"] = TAG  # even a tagged writer is never a candidate
    report = run(world)
    assert (the_decision(report)["action"], the_decision(report)["reason"]) == ("none", "no-candidate")
    assert mutating_calls(report) == []


# 4. min_readers ------------------------------------------------------------------------------
def test_min_readers_counts_all_readers(world):
    world["policies"]["orders"]["min_readers"] = 3
    assert the_decision(run(world))["reason"] == "min-readers"
    world["policies"]["orders"]["min_readers"] = 2
    assert the_decision(run(world))["action"] == "deleted"


# 5. AZ coverage and preference ------------------------------------------------------------------
def test_never_the_last_reader_in_an_az(world):
    reader(world, "orders-2")["az"] = "us-east-1a"  # now every added reader is alone in its AZ
    report = run(world)
    assert (the_decision(report)["action"], the_decision(report)["reason"]) == ("none", "last-in-az")


def test_prefers_the_az_with_most_readers_then_the_newest(world):
    world["clusters"][0]["instances"].append(
        {"id": "orders-aops-0000aaaa-3", "class": "db.r6g.large", "az": "us-east-1b", "cpu": 5,
         "created": "2026-11-24T11:30:00Z", "tags": TAG})
    assert the_decision(run(world))["instance_id"] == "orders-aops-0000aaaa-3"


# 6. failover target ------------------------------------------------------------------------------
def test_never_the_last_reader_as_large_as_the_writer(world):
    instances = world["clusters"][0]["instances"]
    instances[0]["class"] = "db.r6g.xlarge"
    instances[1]["class"] = "db.r6g.large"
    instances[2]["class"] = "db.r6g.xlarge"  # the only failover-sized reader, and ours
    instances[3]["tags"] = {}  # so the only candidate
    report = run(world)
    assert (the_decision(report)["action"], the_decision(report)["reason"]) == ("none", "failover-target")
    instances.append({"id": "orders-3", "class": "db.r6g.2xlarge", "az": "us-east-1c", "cpu": 5})
    assert the_decision(run(world))["instance_id"] == ADDED_IN_B  # another failover target exists now


# 7. re-read right before deleting ---------------------------------------------------------------
@pytest.mark.parametrize("change,reason", [
    ("failover", "became-writer"), ("untag", "no-longer-tagged"), ("gone", "instance-gone"),
])
def test_changes_right_before_the_delete_stop_it(world, change, reason):
    from moto.rds.models import rds_backends

    def intercept(client, operation, params, call_through):
        # The moment the lock is taken, the world changes under the workflow.
        if operation == "PutItem" and params["Item"]["pk"]["S"].startswith("lock#"):
            backend = rds_backends["123456789012"]["us-east-1"]
            db = backend.databases[ADDED_IN_B]
            if change == "failover":
                backend.databases["orders-1"].is_cluster_writer = False
                db.is_cluster_writer = True
            elif change == "untag":
                db.tags = []
            else:
                del backend.databases[ADDED_IN_B]
        return call_through()

    report = run_intercepting(world, intercept)
    assert (the_decision(report)["action"], the_decision(report)["reason"]) == ("none", reason)
    assert calls(report, "DeleteDBInstance") == []
    assert report["world"]["locks"] == []


# 8. one per cluster, metrics, notification ------------------------------------------------------
def test_at_most_one_reader_per_cluster_per_execution(world):
    for added in world["clusters"][0]["instances"][2:]:
        added["az"] = "us-east-1b"
    report = run(world)
    assert len(calls(report, "DeleteDBInstance")) == 1


def test_metric_and_notification_for_a_removal(world):
    report = run(world)
    assert {m["name"] for m in report["metrics"]} == {"ReadersRemoved"}
    (publish,) = calls(report, "Publish")
    assert json.loads(publish["params"]["Message"])["instance_id"] == ADDED_IN_B
    quiet = copy.deepcopy(world)
    reader(quiet, "orders-2")["cpu"] = 50
    report = run(quiet)
    assert {m["name"] for m in report["metrics"]} == {"NoAction"} and calls(report, "Publish") == []


# 9. one cluster's failure does not stop the others ------------------------------------------------
def test_a_failing_cluster_shows_in_its_decision_and_fails_the_run_at_the_end(world):
    world["policies"]["ghost"] = {}
    world["policies"]["billing"] = {}
    world["clusters"].append(copy.deepcopy(world["clusters"][0]))
    billing = world["clusters"][1]
    billing["id"] = "billing"
    for instance in billing["instances"]:
        instance["id"] = instance["id"].replace("orders", "billing")
    # The batched read fails, then the first cluster's own read: only that cluster is an error.
    world["faults"] = {"api_errors": [{"service": "cloudwatch", "operation": "GetMetricData", "code": "AccessDenied", "times": 2}]}
    report = run(world)
    assert report["status"] == "FAILED" and report["error"] == "ScaleDownFailed"
    decisions = {d["cluster_id"]: d for d in json.loads(report["cause"])["decisions"]}
    assert set(decisions) == {"billing", "ghost", "orders"}
    assert decisions["ghost"]["reason"] == "error" and decisions["ghost"]["error"] == "ClusterNotFound"
    assert [d["reason"] for d in (decisions["billing"], decisions["orders"])].count("error") == 1
    assert [d["action"] for d in (decisions["billing"], decisions["orders"])].count("deleted") == 1
    assert report["world"]["locks"] == []


# inputs ------------------------------------------------------------------------------
def test_empty_input_evaluates_every_enabled_managed_cluster(world):
    world["policies"]["disabled"] = {"scale_down": {"enabled": False}}
    report = run(world)
    assert [d["cluster_id"] for d in report["output"]["decisions"]] == ["orders"]


def test_one_cluster_by_id_and_unmanaged_ids(world):
    assert the_decision(run(world, {"cluster_id": "orders"}))["action"] == "deleted"
    unmanaged = run(world, {"cluster_id": "elsewhere"})
    assert (the_decision(unmanaged)["action"], the_decision(unmanaged)["reason"]) == ("none", "not-managed")
    assert mutating_calls(unmanaged) == []


def test_dry_run_decides_but_changes_nothing(world):
    report = run(world, {"dry_run": True})
    assert the_decision(report) == {"cluster_id": "orders", "action": "dry-run", "instance_id": ADDED_IN_B,
                                    "reason": "load-low", "evidence": EVIDENCE}
    assert mutating_calls(report) == []
    assert ADDED_IN_B in instance_ids(report["world"])


@pytest.mark.parametrize("bad_input,field", [({"dry_run": "yes"}, "input.dry_run"), ({"cluster": "x"}, "input")])
def test_malformed_input_is_invalid_input_and_changes_nothing(world, bad_input, field):
    report = run(world, bad_input)
    assert report["status"] == "FAILED" and report["error"] == "InvalidInput"
    assert field in report["cause"]
    assert mutating_calls(report) == []


def test_a_retry_after_the_delete_does_not_remove_a_second_reader(world):
    world["clusters"][0]["instances"].append(
        {"id": "orders-aops-0000aaaa-3", "class": "db.r6g.large", "az": "us-east-1b", "cpu": 5,
         "created": "2026-11-24T09:00:00Z", "tags": TAG})
    deletes = []

    def intercept(client, operation, params, call_through):
        # The first evaluation throttles right after its delete; the state machine retries it.
        result = call_through()
        if operation == "DeleteDBInstance" and not deletes:
            deletes.append(params["DBInstanceIdentifier"])
            raise client.exceptions.from_code("Throttling")(
                {"Error": {"Code": "Throttling", "Message": "after the delete"}}, operation)
        return result

    report = run_intercepting(world, intercept)
    assert report["states"].count("EvaluateCluster") == 1
    assert len(calls(report, "DeleteDBInstance")) == 1
    assert the_decision(report)["action"] == "deleted"
    assert len([i for i in instance_ids(report["world"]) if i.startswith("orders-aops-")]) == 2


# fleets: policy v2, tags, observe mode, calls that grow with the decisions ------------------------
def _fleet(world, n, own_reader=False):
    """`n` more clusters like orders, each tagged aurora-ops:policy=standard."""
    world["policies"] = {"policies": {"standard": world["policies"]["orders"]}, "clusters": {}}
    template = world["clusters"][0]
    world["clusters"] = []
    for index in range(n):
        cluster = copy.deepcopy(template)
        cluster["id"] = f"fleet-{index:03d}"
        cluster["tags"] = {"aurora-ops:policy": "standard"}
        cluster["instances"] = [dict(i, id=i["id"].replace("orders", cluster["id"])) for i in cluster["instances"]
                                if own_reader or CREATED_BY_TAG not in i.get("tags", {})]
        world["clusters"].append(cluster)
    return world


def test_tag_selected_clusters_are_evaluated_and_an_unknown_policy_is_named(world):
    world = _fleet(world, 2, own_reader=True)
    world["clusters"][1]["tags"] = {"aurora-ops:policy": "no-such-policy"}
    untagged = copy.deepcopy(world["clusters"][0])
    untagged.update(id="unmanaged", tags={})
    untagged["instances"] = [dict(i, id=i["id"].replace("fleet-000", "unmanaged")) for i in untagged["instances"]]
    world["clusters"].append(untagged)
    report = run(world)
    decisions = {d["cluster_id"]: d for d in report["output"]["decisions"]}
    assert set(decisions) == {"fleet-000", "fleet-001"}  # the untagged, unnamed cluster is not the fleet's
    assert decisions["fleet-000"]["action"] == "deleted"
    assert (decisions["fleet-001"]["action"], decisions["fleet-001"]["reason"]) == ("none", "unknown-policy")


def test_clusters_without_a_reader_of_ours_cost_no_metric_or_lock_read_however_many(world):
    report = run(_fleet(world, 30))
    assert {d["reason"] for d in report["output"]["decisions"]} == {"no-candidate"}
    assert [c["operation"] for c in report["aws_calls"]] == ["DescribeDBClusters", "DescribeDBInstances"]


def test_a_reader_of_ours_is_known_by_its_tag_whatever_its_name(world):
    """Ownership is the aurora-ops:created-by tag (the contract), not the name scale-up gives."""
    reader(world, ADDED_IN_B)["id"] = "orders-reporting-3"
    reader(world, "orders-aops-0000aaaa-2")["id"] = "orders-reporting-4"  # no name of scale-up's left
    report = run(world)
    assert (the_decision(report)["action"], the_decision(report)["instance_id"]) == ("deleted", "orders-reporting-3")


def test_observe_mode_makes_the_schedules_runs_dry_runs_that_notify(world):
    world["parameters"] = {"Mode": "observe"}
    scheduled = run(world, {"trigger": "schedule"})
    decision = the_decision(scheduled)
    assert (decision["action"], decision["instance_id"], decision["observed"]) == ("dry-run", ADDED_IN_B, True)
    assert [c["operation"] for c in mutating_calls(scheduled)] == ["Publish"]
    assert "observe mode" in scheduled["notifications"][0]["subject"]
    by_hand = run(world, {})  # started by hand: acts as asked
    assert the_decision(by_hand)["action"] == "deleted"
