"""Scale-up under the failures real AWS has, each injected through the world file."""

import copy

import pytest

from aurora_ops.core.tags import CREATED_BY_TAG
from aurora_ops_sim import Simulation, simulate
from conftest import calls, load_event


def run(world, execution_input=None):
    return simulate("scale-up", world, execution_input or {"cluster_id": "orders"}, echo_handler_output=False)


def ours(report):
    return sorted(i["id"] for c in report["world"]["clusters"] for i in c["instances"] if CREATED_BY_TAG in i["tags"])


def test_a_lost_create_response_with_capacity_back_on_retry_adopts_the_reader_it_made(world):
    """The first invocation found no capacity in 1a and created in 1c; its answer was lost.
    The retry, with 1a back, must not create a second reader."""
    world["faults"] = {"api_errors": [{"operation": "CreateDBInstance", "code": "InsufficientDBInstanceCapacity"}],
                       "lambda": [{"state": "CreateReader", "fault": "lost-response"}]}
    report = run(world)
    assert report["status"] == "SUCCEEDED"
    assert ours(report) == [report["output"]["instance_id"]]
    assert len([c for c in calls(report, "CreateDBInstance") if not c["error"]]) == 1


@pytest.mark.parametrize("state", ["Prepare", "Reserve", "CreateReader", "CheckReader", "Finish"])
@pytest.mark.parametrize("fault", ["lost-response", "timeout", "service-error", "throttled"])
def test_any_lambda_fault_on_any_step_still_creates_exactly_one_reader(world, state, fault):
    world["faults"] = {"lambda": [{"state": state, "fault": fault}]}
    report = run(world)
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert report["output"]["action"] == "created" and ours(report) == [report["output"]["instance_id"]]
    assert report["world"]["locks"] == []


def test_a_step_that_keeps_timing_out_fails_with_a_named_error_not_states_runtime(world):
    world["faults"] = {"lambda": [{"state": "CreateReader", "fault": "timeout", "times": 5}]}
    report = run(world)
    assert report["status"] == "FAILED" and report["error"] == "StepTimeout"
    assert report["world"]["locks"] == []


def test_a_duplicate_start_of_the_same_input_adds_no_second_reader(world):
    world["faults"] = {"duplicate_start": True}
    report = run(world)
    assert len(ours(report)) == 1
    assert (report["duplicate"]["output"]["action"], report["duplicate"]["output"]["reason"]) == ("none", "cooldown")


def test_five_capacity_events_one_after_another_create_one_reader(world):
    event = load_event("rds-cluster-event.json")
    with Simulation(world) as simulation:
        reports = []
        for n in range(5):
            delivered = copy.deepcopy(event)
            delivered["id"] = f"event-{n}"
            delivered["time"] = simulation.now.strftime("%Y-%m-%dT%H:%M:%SZ")
            reports.append(simulation.run("scale-up", delivered))
    assert [r["output"]["action"] for r in reports] == ["created", "none", "none", "none", "none"]
    assert {r["output"]["reason"] for r in reports[1:]} == {"cooldown"}
    assert len(ours(reports[-1])) == 1


def test_an_event_older_than_the_newest_reader_of_this_system_is_stale(world):
    world["clusters"][0]["instances"].append(
        {"id": "orders-aops-00000000-1", "class": "db.r6g.large", "az": "us-east-1c",
         "created": "2026-11-24T10:00:00Z", "tags": {CREATED_BY_TAG: "earlier"}})
    event = load_event("rds-cluster-event.json")
    event["time"] = "2026-11-24T09:59:00Z"
    report = run(world, event)
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "cooldown")
    assert calls(report, "CreateDBInstance") == []


def test_cooldown_minutes_is_a_policy_field(world):
    world["clusters"][0]["instances"].append(
        {"id": "orders-aops-00000000-1", "class": "db.r6g.large", "az": "us-east-1c",
         "created": "2026-11-24T11:50:00Z", "tags": {CREATED_BY_TAG: "earlier"}})
    assert run(copy.deepcopy(world))["output"]["reason"] == "cooldown"  # default 15 minutes
    world["policies"]["orders"]["scale_up"] = {"cooldown_minutes": 5}
    assert run(world)["output"]["action"] == "created"


def test_an_instance_event_about_a_reader_of_this_system_is_its_own_request(world):
    world["clusters"][0]["instances"].append(
        {"id": "orders-extra", "class": "db.r6g.large", "az": "us-east-1c", "tags": {CREATED_BY_TAG: "earlier"}})
    event = load_event("rds-instance-event.json")
    event["detail"]["SourceIdentifier"] = "orders-extra"
    report = run(world, event)
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "own-request")
    event["detail"]["SourceIdentifier"] = "orders-aops-0123abcd-1"  # by its name, even once it is gone
    report = run(world, event)
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "own-request")


def test_a_notification_that_fails_is_a_warning_not_a_failure(world):
    world["faults"] = {"api_errors": [{"service": "sns", "operation": "Publish", "code": "KMSAccessDenied",
                                       "times": 10}]}
    report = run(world)
    assert report["status"] == "SUCCEEDED" and report["output"]["action"] == "created"
    assert report["output"]["warnings"][0].startswith("notification not sent: ")
    assert report["notifications"] == []


def test_a_lock_release_that_fails_once_is_retried(world):
    world["faults"] = {"api_errors": [{"service": "dynamodb", "operation": "DeleteItem", "code": "InternalFailure"}]}
    report = run(world)
    assert report["status"] == "SUCCEEDED" and report["world"]["locks"] == []
