"""Every restore-drill behaviour, with the real ASL, the nested snapshot-restore execution
and the handlers in the simulator: a drill that passes, a failed check, a check that
times out, a cleanup that must retry, a restore that fails, the Data API unavailable,
what is skipped and why, dry runs, bad input, and the record dr-readiness reads."""

import copy
import json

import boto3
import pytest
import yaml

from aurora_ops_sim import Simulation, simulate
from conftest import calls, mutating_calls

WORLD = yaml.safe_load(open("examples/restore-drill.yaml"))
SCRATCH = "orders-restored-drill-202611290300"


@pytest.fixture
def world():
    return copy.deepcopy(WORLD)


def run(world, execution_input=None):
    execution_input = {"cluster_id": "orders"} if execution_input is None else execution_input
    return simulate("restore-drill", world, execution_input, echo_handler_output=False)


def drill(report, cluster_id="orders"):
    return next(d for d in report["output"]["drills"] if d["cluster_id"] == cluster_id)


def nothing_left(report):
    """No scratch cluster or instance of any drill exists after the run."""
    return not [c["id"] for c in report["world"]["clusters"] if "-restored-drill-" in c["id"]]


def test_a_drill_restores_the_latest_snapshot_queries_it_and_deletes_it(world):
    report = run(world)
    assert report["status"] == "SUCCEEDED", report["cause"]
    result = drill(report)
    assert (result["outcome"], result["snapshot_id"], result["scratch_cluster_id"]) == (
        "passed", "rds:orders-2026-11-29-02-00", SCRATCH)
    assert result["snapshot_age_hours"] == 1.0 and result["instance_class"] == "db.r6g.large"  # the smallest allowed
    assert [c["result"] for c in result["checks"]] == ["passed", "passed"] and result["checks"][0]["got"] == 1042
    assert 0 < result["seconds_to_available"] <= result["seconds_to_first_query"] < result["duration_seconds"]
    assert result["cleanup_completed"] and result["deleted"] == [f"{SCRATCH}-1", SCRATCH] and nothing_left(report)
    # the restore is snapshot-restore's own state machine, nested, named after the scratch cluster
    (nested,) = report["nested_executions"]
    assert (nested["state_machine"], nested["execution_name"], nested["status"]) == (
        "snapshot-restore", SCRATCH, "SUCCEEDED")
    assert [c["params"]["ResourceArn"].rsplit(":", 1)[-1] for c in calls(report, "EnableHttpEndpoint")] == [SCRATCH]
    assert report["notifications"] == []  # neither the drill that passed nor its nested restore notifies
    assert report["world"]["locks"] == []


def test_input_empty_drills_every_enabled_cluster_and_only_those(world):
    report = run(world, {})
    assert {d["cluster_id"]: d["outcome"] for d in report["output"]["drills"]} == {"orders": "passed",
                                                                                  "billing": "passed"}
    assert drill(report, "billing")["checks"][0]["got"] == 88  # Aurora MySQL 3.08 serves the Data API
    assert nothing_left(report) and report["output"]["passed"] == 2


def test_the_latest_passed_drill_is_recorded_for_dr_readiness(world):
    with Simulation(world, echo_handler_output=False) as simulation:
        simulation.run("restore-drill", {"cluster_id": "orders"})
        item = boto3.client("dynamodb", region_name="us-east-1").get_item(
            TableName="aurora-ops-state", Key={"pk": {"S": "drill-passed#orders"}})["Item"]
    assert json.loads(item["detail"]["S"])["outcome"] == "passed" and item["passed"]["BOOL"] is True


def test_a_failed_check_fails_the_drill_notifies_and_still_cleans_up(world):
    world["policies"]["clusters"]["orders"]["restore_drill"]["checks"][0]["expect"] = {"min": 5000}
    report = run(world)
    result = drill(report)
    assert report["status"] == "SUCCEEDED"  # the execution reports; the drill failed
    assert (result["outcome"], [c["result"] for c in result["checks"]]) == ("failed", ["failed", "passed"])
    assert "1042 < 5000" in result["checks"][0]["detail"] and "SELECT count(*) FROM orders" in result["message"]
    assert result["cleanup_completed"] and nothing_left(report)
    assert [n["message"]["outcome"] for n in report["notifications"]] == ["failed"]


def test_a_check_that_times_out_is_reported_and_the_others_still_run(world):
    world["faults"] = {"data_api": [{"sql": "SELECT count(*) FROM orders", "fault": "timeout"}]}
    report = run(world)
    result = drill(report)
    assert [c["result"] for c in result["checks"]] == ["timeout", "passed"] and result["outcome"] == "failed"
    assert result["cleanup_completed"] and nothing_left(report)


def test_a_cleanup_that_must_retry_completes(world):
    world["faults"] = {"api_errors": [{"operation": "DeleteDBCluster", "code": "InvalidDBClusterStateFault",
                                       "times": 2}]}
    report = run(world)
    result = drill(report)
    assert result["outcome"] == "passed" and result["cleanup_completed"] and nothing_left(report)
    assert [c["error"] for c in calls(report, "DeleteDBCluster")] == ["InvalidDBClusterStateFault"] * 2 + [None]


def test_a_restore_that_fails_fails_the_drill_and_leaves_nothing(world):
    world["faults"] = {"insufficient_capacity": [{"class": "db.r6g.large", "az": "*"}]}
    report = run(world)
    result = drill(report)
    assert result["outcome"] == "failed" and "snapshot-restore" in result["message"]
    assert report["nested_executions"][0]["status"] == "FAILED"
    assert result["cleanup_completed"] and nothing_left(report)
    assert [n["message"]["outcome"] for n in report["notifications"]] == ["failed"]


def test_where_the_data_api_is_not_available_the_checks_are_skipped_with_the_reason(world):
    world["snapshots"][0]["engine_version"] = "16.0"
    report = run(world)
    result = drill(report)
    assert [c["result"] for c in result["checks"]] == ["skipped", "skipped"]
    assert "16.1 or later" in result["checks"][0]["detail"] and result["outcome"] == "passed"
    assert result["message"].startswith("the backup restored; no check ran: the Data API needs")
    assert calls(report, "EnableHttpEndpoint") == [] and calls(report, "ExecuteStatement") == []
    assert nothing_left(report)


def test_what_is_not_drilled_says_why(world):
    world["snapshots"] = [s for s in world["snapshots"] if s["cluster"] != "billing"]
    report = run(world, {})
    assert report["output"]["skipped"] == [{"cluster_id": "billing", "reason": "no-snapshot",
                                            "detail": "no available snapshot to restore"}]
    report = run(world, {"cluster_id": "nowhere"})
    assert report["output"]["skipped"] == [{"cluster_id": "nowhere", "reason": "not-found"}]
    world["clusters"].append({"id": "ledger", "engine": "aurora-postgresql",
                              "instances": [{"id": "ledger-1", "class": "db.r6g.large", "writer": True}]})
    report = run(world, {"cluster_id": "ledger"})
    assert report["output"]["skipped"] == [{"cluster_id": "ledger", "reason": "not-managed"}]


def test_a_second_run_soon_after_skips_what_was_just_drilled(world):
    world["faults"] = {"duplicate_start": True}
    report = simulate("restore-drill", world, {}, echo_handler_output=False)
    assert report["output"]["passed"] == 2
    duplicate = report["duplicate"]["output"]
    assert duplicate["drills"] == [] and {s["reason"] for s in duplicate["skipped"]} == {"drilled-recently"}


def test_a_drill_of_a_cluster_another_run_is_drilling_is_skipped(world):
    world["locks"] = [{"cluster": "drill:orders", "owner": "another-drill", "workflow": "restore-drill"}]
    report = run(world)
    assert drill(report)["outcome"] == "skipped" and drill(report)["reason"] == "drill-in-progress"
    assert report["nested_executions"] == [] and mutating_calls(report) == [
        c for c in mutating_calls(report) if c["service"] == "dynamodb"]


def test_a_dry_run_plans_and_creates_nothing(world):
    report = run(world, {"dry_run": True})
    planned = {d["cluster_id"]: d for d in report["output"]["drills"]}
    assert set(planned) == {"orders", "billing"} and report["output"]["dry_run"] is True
    assert planned["orders"]["data_api"]["supported"] and planned["orders"]["scratch_cluster_id"] == SCRATCH
    assert mutating_calls(report) == [] and report["nested_executions"] == []


def test_bad_input_fails_with_a_named_error_and_changes_nothing(world):
    report = run(world, {"cluster": "orders"})
    assert (report["status"], report["error"]) == ("FAILED", "InvalidInput") and report["cause"].startswith("input")
    assert mutating_calls(report) == []


def test_in_observe_mode_a_scheduled_run_plans_and_says_what_it_would_drill(world):
    world["parameters"] = {"Mode": "observe"}
    report = run(world, {"trigger": "schedule"})
    assert report["output"]["dry_run"] is True and report["output"]["observed"] is True
    assert [c["operation"] for c in mutating_calls(report)] == ["Publish"] and report["nested_executions"] == []
    assert report["notifications"][0]["subject"] == "aurora-ops restore-drill: would drill 2 clusters (observe mode)"


def test_an_error_after_the_restore_still_deletes_what_it_made(world):
    world["faults"] = {"api_errors": [{"operation": "EnableHttpEndpoint", "code": "InvalidParameterCombination"}]}
    report = run(world)
    result = drill(report)
    assert result["outcome"] == "failed" and result["message"].startswith("InvalidParameterCombination")
    assert [c["result"] for c in result["checks"]] == [None, None]  # never run
    assert result["cleanup_completed"] and nothing_left(report) and report["world"]["locks"] == []


def test_dr_readiness_sees_the_drill_that_passed(world):
    with Simulation(world, echo_handler_output=False) as simulation:
        before = simulation.run("dr-readiness", {"cluster_id": "orders"})["output"]
        simulation.run("restore-drill", {"cluster_id": "orders"})
        after = simulation.run("dr-readiness", {"cluster_id": "orders"})["output"]
    checks = [next(r for r in out["resources"] if r["id"] == "orders")["checks"] for out in (before, after)]
    assert (checks[0]["drill-recent"], checks[1]["drill-recent"]) == ("fail", "pass")
