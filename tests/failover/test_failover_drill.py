"""The drill (an in-region failover, optionally failed back), each refusal and each
pre-check, shown by running the real ASL and handlers in the simulator."""

import copy
import json

import pytest

from aurora_ops.workflows.failover.decisions import OUTPUT_FIELDS
from aurora_ops_sim import simulate
from conftest import calls, failover_result as result, mutating_calls

TAG = {"aurora-ops:failover": "drill"}
WORLD = {
    "now": "2026-11-24T12:00:00Z",
    "policies": {"clusters": {"orders": {"failover": {"allowed": ["drill"]}}}, "policies": {}},
    "clusters": [{
        "id": "orders", "engine": "aurora-postgresql", "tags": TAG,
        "instances": [
            {"id": "orders-1", "class": "db.r6g.large", "az": "us-east-1a", "writer": True},
            {"id": "orders-2", "class": "db.r6g.large", "az": "us-east-1b", "promotion_tier": 1},
            {"id": "orders-3", "class": "db.r6g.large", "az": "us-east-1a", "promotion_tier": 1},
        ],
    }],
    "timing": {"polls_until_failed_over": 2},
}
DRILL = {"operation": "drill", "cluster_id": "orders", "target_instance_id": None, "failback": False, "dry_run": False}


@pytest.fixture
def world():
    return copy.deepcopy(WORLD)


def run(world, execution_input=DRILL):
    return simulate("failover", world, execution_input, echo_handler_output=False)


def writer(report, cluster="orders"):
    found = next(c for c in report["world"]["clusters"] if c["id"] == cluster)
    return next(i["id"] for i in found["instances"] if i["writer"])


def failed_checks(output):
    return [c["name"] for c in output["checks"] if not c["ok"]]


def test_a_drill_fails_over_to_the_reader_aurora_would_promote_and_measures_it(world):
    report = run(world)
    output = result(report)
    assert report["status"] == "SUCCEEDED" and output["outcome"] == "completed"
    assert tuple(output)[:len(OUTPUT_FIELDS)] == OUTPUT_FIELDS
    assert (output["from"], output["to"]) == ("orders-1", "orders-2")  # same tier and size: the other AZ
    assert writer(report) == "orders-2"
    assert [c["params"] for c in calls(report, "FailoverDBCluster")] == [
        {"DBClusterIdentifier": "orders", "TargetDBInstanceIdentifier": "orders-2"}]
    timings = output["timings"]
    # failing-over for 2 describes, then the new writer: the third poll, 5 s apart
    assert 14 <= timings["writer_changed_after_seconds"] <= 17
    assert timings["available_after_seconds"] == timings["writer_changed_after_seconds"]
    assert timings["total_seconds"] >= timings["available_after_seconds"] and timings["poll_interval_seconds"] == 5
    assert output["data_loss_window_seconds"] == 0 and output["timings"]["failback"] is None
    assert all(c["ok"] for c in output["checks"])
    assert report["world"]["locks"] == []
    assert [n["message"]["outcome"] for n in report["notifications"]] == ["completed"]


def test_the_budget_a_drill_whose_writer_changes_after_two_polls_takes_at_most_30_transitions(world):
    report = run(world)
    assert report["transitions"] <= 30, report["states"]
    waits = [s for s in report["states"] if s == "WaitForProgress"]
    assert len(waits) == 3


def test_failback_returns_the_writer_and_measures_both_legs(world):
    report = run(world, {**DRILL, "failback": True})
    output = result(report)
    assert output["outcome"] == "completed" and writer(report) == "orders-1"
    assert [c["params"]["TargetDBInstanceIdentifier"] for c in calls(report, "FailoverDBCluster")] == [
        "orders-2", "orders-1"]
    assert output["timings"]["failback"]["available_after_seconds"] > 0
    assert output["timings"]["total_seconds"] > output["timings"]["available_after_seconds"] * 2


def test_a_named_target(world):
    report = run(world, {**DRILL, "target_instance_id": "orders-3"})
    assert result(report)["to"] == "orders-3" and writer(report) == "orders-3"


def test_a_lost_response_does_not_fail_over_twice(world):
    world["faults"] = {"lambda": [{"state": "StartOperation", "fault": "lost-response"}]}
    report = run(world)
    assert result(report)["outcome"] == "completed" and writer(report) == "orders-2"
    assert len(calls(report, "FailoverDBCluster")) == 1


def test_a_duplicate_start_is_refused_and_the_writer_changes_once(world):
    world["faults"] = {"duplicate_start": True}
    report = run(world)
    assert result(report)["outcome"] == "completed"
    duplicate = report["duplicate"]
    assert duplicate["status"] == "SUCCEEDED" and duplicate["output"]["outcome"] == "refused"
    assert duplicate["output"]["reason"] == "duplicate-start"
    assert not [c for c in duplicate["aws_calls"] if c["operation"] == "FailoverDBCluster"]
    assert writer(report) == "orders-2"


def test_a_dry_run_runs_every_check_and_changes_nothing(world):
    report = run(world, {**DRILL, "dry_run": True})
    output = result(report)
    assert output["outcome"] == "dry-run" and output["to"] == "orders-2"
    assert {c["name"] for c in output["checks"]} >= {"not-allowed", "not-available", "no-instances", "locked"}
    assert [c["operation"] for c in mutating_calls(report)] == []  # not even a lock
    assert report["notifications"] == []


def refused(report, reason):
    output = result(report)
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert (output["outcome"], output["reason"]) == ("refused", reason)
    assert failed_checks(output)[0] == reason
    assert not calls(report, "FailoverDBCluster")
    assert not [lock for lock in report["world"]["locks"] if lock["owner"].startswith("sim-failover")]
    assert [n["message"]["reason"] for n in report["notifications"]] == [reason]
    return output


def test_refused_when_the_policy_does_not_allow_drills(world):
    world["policies"]["clusters"]["orders"] = {"failover": {"allowed": ["switchover"]}}
    refused(run(world), "not-allowed")


def test_refused_when_the_cluster_is_not_managed(world):
    world["policies"]["clusters"] = {}
    assert "not managed" in refused(run(world), "not-allowed")["message"]


def test_refused_when_the_opt_in_tag_does_not_list_drill(world):
    world["clusters"][0]["tags"] = {"aurora-ops:failover": "switchover"}
    assert "IAM" in refused(run(world), "not-allowed")["message"]


def test_refused_when_the_cluster_is_not_available(world):
    world["clusters"][0]["status"] = "modifying"
    refused(run(world), "not-available")


def test_refused_when_the_cluster_does_not_exist(world):
    refused(run(world, {**DRILL, "cluster_id": "nowhere"}), "not-allowed")  # the first refusal: not managed either


def test_refused_when_the_cluster_has_no_instances(world):
    world["clusters"][0]["instances"] = []
    output = refused(run(world), "no-instances")
    assert "no-failover-target" in failed_checks(output)


def test_refused_when_no_reader_is_available(world):
    for reader in world["clusters"][0]["instances"][1:]:
        reader["status"] = "rebooting"
    refused(run(world), "no-failover-target")


@pytest.mark.parametrize("target", ["orders-1", "elsewhere-1"])
def test_refused_when_the_named_target_is_not_a_reader_of_the_cluster(world, target):
    refused(run(world, {**DRILL, "target_instance_id": target}), "target-not-member")


def test_refused_when_another_operation_holds_the_lock(world):
    world["locks"] = [{"cluster": "orders", "owner": "sim-scale-up-999", "workflow": "scale-up"}]
    output = refused(run(world), "locked")
    assert "sim-scale-up-999" in output["message"]
    assert [lock["owner"] for lock in run(world)["world"]["locks"]] == ["sim-scale-up-999"]  # theirs stays


def test_bad_input_fails_with_a_named_error_and_changes_nothing(world):
    report = run(world, {"operation": "drill"})
    assert (report["status"], report["error"]) == ("FAILED", "InvalidInput")
    assert "cluster_id" in report["cause"] and report["notifications"] == []
    assert mutating_calls(report) == []
    report = run(world, {"operation": "promote", "cluster_id": "orders"})
    assert report["error"] == "InvalidInput" and report["cause"].startswith("input.operation")


def test_an_aws_refusal_fails_the_execution_releases_the_lock_and_notifies(world):
    world["faults"] = {"api_errors": [{"operation": "FailoverDBCluster", "code": "InvalidDBClusterStateFault"}]}
    report = run(world)
    output = result(report)
    assert (report["status"], report["error"]) == ("FAILED", "InvalidDBClusterStateFault")
    assert output["outcome"] == "failed" and output["error"] == "InvalidDBClusterStateFault"
    assert report["world"]["locks"] == [] and writer(report) == "orders-1"
    assert [n["message"]["outcome"] for n in report["notifications"]] == ["failed"]


def test_a_failover_that_never_settles_times_out_with_a_named_error(world):
    world["timing"]["polls_until_failed_over"] = 1000
    report = run(world)
    assert (report["status"], report["error"]) == ("FAILED", "FailoverTimeout")
    output = result(report)
    assert "AWS may still be carrying it out" in output["message"] and report["world"]["locks"] == []
    assert report["states"].count("CheckProgress") == 180  # bounded: 15 minutes of 5-second polls


def test_a_scheduled_drill_in_observe_mode_is_a_dry_run(world):
    world["parameters"] = {"Mode": "observe"}
    report = run(world, {"operation": "drill", "cluster_id": "orders", "failback": True, "trigger": "schedule"})
    output = result(report)
    assert (output["outcome"], output["observed"], output["timings"]["failback"]) == ("dry-run", True, None)
    assert [c["operation"] for c in mutating_calls(report)] == ["Publish"]  # what it would do, and nothing else
    assert "(observe mode)" in report["notifications"][0]["subject"]
    world["parameters"] = {"Mode": "observe"}
    assert result(run(world))["outcome"] == "completed"  # started by hand: it acts
