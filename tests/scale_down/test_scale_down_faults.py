"""Scale-down under the failures real AWS has, each injected through the world file."""

import copy

import pytest

from aurora_ops_sim import simulate
from conftest import calls
from test_scale_down_simulation import ADDED_IN_B, WORLD


@pytest.fixture
def world():
    return copy.deepcopy(WORLD)


def run(world):
    return simulate("scale-down", world, {}, echo_handler_output=False)


def deletes(report):
    return [c["params"]["DBInstanceIdentifier"] for c in calls(report, "DeleteDBInstance") if not c["error"]]


def test_a_lost_answer_after_the_delete_reports_the_removal_and_releases_the_lock(world):
    world["faults"] = {"lambda": [{"state": "EvaluateCluster", "fault": "lost-response"}]}
    report = run(world)
    (decision,) = report["output"]["decisions"]
    assert (decision["action"], decision["instance_id"]) == ("deleted", ADDED_IN_B)
    assert deletes(report) == [ADDED_IN_B]  # the retry removed no second reader
    assert report["world"]["locks"] == []


def test_a_retry_issues_again_a_delete_that_never_happened(world):
    world["faults"] = {"api_errors": [{"operation": "DeleteDBInstance", "code": "InternalFailure"}]}
    report = run(world)
    (decision,) = report["output"]["decisions"]
    assert (decision["action"], decision["instance_id"]) == ("deleted", ADDED_IN_B)
    assert [c["error"] for c in calls(report, "DeleteDBInstance")] == ["InternalFailure", None]
    assert report["world"]["locks"] == []


@pytest.mark.parametrize("state", ["Plan", "EvaluateCluster", "Settle"])
@pytest.mark.parametrize("fault", ["lost-response", "timeout", "service-error", "throttled"])
def test_any_lambda_fault_on_any_step_removes_at_most_one_reader_and_leaves_no_lock(world, state, fault):
    world["faults"] = {"lambda": [{"state": state, "fault": fault}]}
    report = run(world)
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert set(deletes(report)) == {ADDED_IN_B}
    assert report["world"]["locks"] == []


def test_slow_deletions_end_inside_expresss_five_minutes_with_every_decision_reported(world):
    world["timing"] = {"polls_until_deleted": 1000, "lambda_ms": 25_000}
    report = run(world)
    assert report["status"] == "SUCCEEDED" and report["simulated_seconds"] < 300
    (decision,) = report["output"]["decisions"]
    assert decision["action"] == "deleted" and decision["message"].startswith("still deleting")
    assert report["world"]["locks"] == []


def test_a_settle_that_keeps_failing_still_reports_the_decisions(world):
    world["faults"] = {"lambda": [{"state": "Settle", "fault": "service-error", "times": 10}]}
    report = run(world)
    assert report["status"] == "FAILED" and report["error"] == "ScaleDownFailed"
    assert ADDED_IN_B in report["cause"]
    assert report["world"]["locks"] == []


def test_a_notification_that_fails_is_a_warning_not_a_failure(world):
    world["faults"] = {"api_errors": [{"service": "sns", "operation": "Publish", "code": "KMSAccessDenied"}]}
    report = run(world)
    (decision,) = report["output"]["decisions"]
    assert report["status"] == "SUCCEEDED" and decision["action"] == "deleted"
    assert decision["warnings"][0].startswith("notification not sent: ")


def test_a_duplicate_start_removes_no_second_reader(world):
    world["faults"] = {"duplicate_start": True}
    report = run(world)
    (decision,) = report["duplicate"]["output"]["decisions"]
    assert decision["action"] == "none"  # the last reader of its AZ now, and in cooldown anyway
    assert deletes(report) == [ADDED_IN_B]
