"""Every scale-up behaviour, shown by running the real ASL and handlers in the simulator."""

import json

import pytest

from aurora_ops.core.tags import CREATED_BY_TAG
from aurora_ops.workflows.scale_up import steps as scale_up
from aurora_ops_sim import Simulation, simulate
from conftest import calls, instance_ids, load_event, mutating_calls

MANUAL = {"cluster_id": "orders", "reason": "load", "dry_run": False}
OUTCOME_KEYS = {"action", "reason", "cluster_id", "instance_id", "instance_class", "availability_zone",
                "attempts", "plan", "error", "message"}


def run(world, execution_input=MANUAL):
    return simulate("scale-up", world, execution_input)


def created(report):
    return [c["params"] for c in calls(report, "CreateDBInstance") if c["error"] is None]


def tried(report):
    return [(c["params"]["DBInstanceClass"], c["params"]["AvailabilityZone"]) for c in calls(report, "CreateDBInstance")]


# 1. input validation ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad_input,field", [
    ({"cluster_id": "orders", "dry_run": "yes"}, "dry_run"),
    ({"cluster_id": "orders", "colour": "red"}, "colour"),
    ({"reason": "no cluster"}, "cluster_id"),
    ({"id": "e1", "source": "aws.rds", "detail-type": "RDS DB Cluster Event", "detail": {}}, "SourceIdentifier"),
    ([1, 2], "input"),
])
def test_malformed_input_fails_with_invalid_input_and_changes_nothing(world, bad_input, field):
    report = run(world, bad_input)
    assert report["status"] == "FAILED"
    assert report["error"] == "InvalidInput"
    assert field in report["cause"] and "\n" not in report["cause"]  # the one-line message, as every workflow
    assert mutating_calls(report) == []
    assert report["world"]["clusters"] == simulate_noop_world(world)


def simulate_noop_world(world):
    """The clusters of the world as the simulator reports them when nothing ran."""
    with Simulation(world) as simulation:
        return simulation.dump_world()["clusters"]


# 2. resolving the cluster ------------------------------------------------------------------------------
@pytest.mark.parametrize("event", [
    "manual.json", "rds-cluster-event.json", "rds-instance-event.json",
    "cloudtrail-capacity-failure.json", "alarm-reader-load.json",
])
def test_every_trigger_form_resolves_to_the_cluster(world, event):
    report = run(world, load_event(event))
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert report["output"]["action"] == "created"
    assert report["output"]["cluster_id"] == "orders"
    assert [p["DBClusterIdentifier"] for p in created(report)] == ["orders"]


@pytest.mark.parametrize("cluster_id", ["missing", "billing"])
def test_unknown_or_unmanaged_cluster_is_not_managed(world, cluster_id):
    world["clusters"].append({"id": "billing", "engine": "aurora-mysql",
                              "instances": [{"id": "billing-1", "class": "db.r6g.large", "writer": True}]})
    report = run(world, {"cluster_id": cluster_id})
    assert report["status"] == "SUCCEEDED"
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "not-managed")
    assert mutating_calls(report) == []


def test_instance_event_for_an_unknown_instance_is_not_managed(world):
    event = load_event("rds-instance-event.json")
    event["detail"]["SourceIdentifier"] = "no-such-instance"
    report = run(world, event)
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "not-managed")
    assert mutating_calls(report) == []


# 3. the lock ------------------------------------------------------------------------------
def test_lock_held_by_another_execution_means_in_progress(world):
    world["locks"] = [{"cluster": "orders", "owner": "someone-else", "expires_at": "2026-11-24T13:00:00Z"}]
    report = run(world)
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "in-progress")
    assert calls(report, "CreateDBInstance") == []
    assert [lock["owner"] for lock in report["world"]["locks"]] == ["someone-else"]


def test_an_expired_lock_is_taken_over(world):
    world["locks"] = [{"cluster": "orders", "owner": "crashed", "expires_at": "2026-11-24T11:00:00Z"}]
    report = run(world)
    assert report["output"]["action"] == "created"
    assert report["world"]["locks"] == []


def test_lock_is_released_after_success_and_after_failures(world):
    assert run(world)["world"]["locks"] == []
    world["faults"] = {"insufficient_capacity": [{"class": "db.r6g.large", "az": "*"},
                                                 {"class": "db.r6g.xlarge", "az": "*"}]}
    assert run(world)["world"]["locks"] == []
    world["faults"] = {"api_errors": [{"operation": "CreateDBInstance", "code": "InvalidParameterValue"}]}
    failed = run(world)
    assert failed["status"] == "FAILED" and failed["error"] == "InvalidParameterValue"
    assert calls(failed, "PutItem") and calls(failed, "DeleteItem")
    assert failed["world"]["locks"] == []


def test_the_same_event_delivered_twice_creates_one_reader(world):
    event = load_event("rds-cluster-event.json")
    with Simulation(world) as simulation:
        first = simulation.run("scale-up", event)
        second = simulation.run("scale-up", event)
    assert first["output"]["action"] == "created"
    assert (second["output"]["action"], second["output"]["reason"]) == ("none", "duplicate-event")
    assert calls(second, "CreateDBInstance") == []
    assert len(instance_ids(second["world"])) == 3


# 4. guards ------------------------------------------------------------------------------
def test_cluster_not_available(world):
    world["clusters"][0]["status"] = "modifying"
    report = run(world)
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "cluster-not-available")
    assert mutating_calls(report) == []


def test_max_readers_counts_readers_being_created(world):
    world["policies"]["orders"]["max_readers"] = 2
    world["clusters"][0]["instances"].append({"id": "orders-3", "class": "db.r6g.large", "status": "creating"})
    report = run(world)
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "max-readers")
    assert mutating_calls(report) == []
    world["clusters"][0]["instances"][-1]["status"] = "insufficient-capacity"  # not a reader any more
    assert run(world)["output"]["action"] == "created"


# 5. planning ------------------------------------------------------------------------------
ALL_LARGE_SHORT = {"insufficient_capacity": [{"class": "db.r6g.large", "az": "*"},
                                             {"class": "db.r6g.xlarge", "az": "*"}]}


def test_instance_priority_order_with_fewest_readers_first(world):
    world["faults"] = ALL_LARGE_SHORT
    assert tried(run(world)) == [
        ("db.r6g.large", "us-east-1a"), ("db.r6g.large", "us-east-1c"), ("db.r6g.large", "us-east-1b"),
        ("db.r6g.xlarge", "us-east-1a"), ("db.r6g.xlarge", "us-east-1c"), ("db.r6g.xlarge", "us-east-1b"),
    ]


def test_az_priority_order_and_only_subnet_group_azs(world):
    world["policies"]["orders"].update(strategy="az-priority",
                                       availability_zones=["us-east-1d", "us-east-1c", "us-east-1a"])
    world["faults"] = ALL_LARGE_SHORT
    assert tried(run(world)) == [
        ("db.r6g.large", "us-east-1c"), ("db.r6g.xlarge", "us-east-1c"),
        ("db.r6g.large", "us-east-1a"), ("db.r6g.xlarge", "us-east-1a"),
    ]


def test_classes_smaller_than_the_writer_are_never_tried_unless_allowed(world):
    world["policies"]["orders"]["instance_classes"] = ["db.r6g.medium", "db.r6g.large"]
    world["faults"] = {"insufficient_capacity": [{"class": "db.r6g.large", "az": "*"}]}
    strict = run(world)
    assert {c for c, _ in tried(strict)} == {"db.r6g.large"}
    assert strict["error"] == "NoCapacityAvailable"
    world["policies"]["orders"]["allow_smaller_than_writer"] = True
    relaxed = run(world)
    assert relaxed["output"]["instance_class"] == "db.r6g.medium"


def test_unorderable_candidates_are_dropped_after_a_parallel_check(world):
    world["faults"] = {"not_orderable": [{"class": "db.r6g.large", "az": "us-east-1a"},
                                         {"class": "db.r6g.large", "az": "us-east-1c"}]}
    report = run(world)
    assert report["states"].count("CheckClassOrderable") == 2  # one Map iteration per class
    assert tried(report) == [("db.r6g.large", "us-east-1b")]
    assert report["output"]["availability_zone"] == "us-east-1b"


def test_no_ec2_capacity_reservations_are_used_to_probe(world):
    report = run(world)
    assert {c["service"] for c in report["aws_calls"]} <= {"rds", "dynamodb", "sns"}


SERVERLESS_FIRST = ["db.serverless", "db.r6g.xlarge"]


def test_a_serverless_reader_is_created_in_a_cluster_with_serverless_v2(world):
    """max_acu 16 is 32 GiB, at least the writer's db.r6g.large (16 GiB): db.serverless goes first."""
    world["clusters"][0]["serverless_v2"] = {"min_acu": 0.5, "max_acu": 16}
    world["policies"]["orders"]["instance_classes"] = SERVERLESS_FIRST
    report = run(world)
    assert report["status"] == "SUCCEEDED", report["cause"]
    (params,) = created(report)
    assert params["DBInstanceClass"] == "db.serverless"
    assert (report["output"]["action"], report["output"]["instance_class"]) == ("created", "db.serverless")
    orders = next(c for c in report["world"]["clusters"] if c["id"] == "orders")
    new = next(i for i in orders["instances"] if i["id"] == params["DBInstanceIdentifier"])
    assert (new["class"], new["status"], new["writer"]) == ("db.serverless", "available", False)
    assert orders["serverless_v2"] == {"min_acu": 0.5, "max_acu": 16}


def test_a_serverless_class_is_never_tried_in_a_cluster_without_serverless_v2(world):
    world["policies"]["orders"]["instance_classes"] = SERVERLESS_FIRST
    report = run(world)
    assert {c for c, _ in tried(report)} == {"db.r6g.xlarge"}
    assert report["output"]["instance_class"] == "db.r6g.xlarge"


# 6. dry run ------------------------------------------------------------------------------
def test_dry_run_outputs_the_plan_and_changes_nothing(world):
    world["faults"] = {"not_orderable": [{"class": "db.r6g.xlarge", "az": "*"}]}
    report = run(world, {"cluster_id": "orders", "dry_run": True})
    assert report["status"] == "SUCCEEDED"
    assert report["output"]["action"] == "dry-run"
    plan = report["output"]["plan"]
    assert [(c["instance_class"], c["availability_zone"]) for c in plan["candidates"]] == [
        ("db.r6g.large", "us-east-1a"), ("db.r6g.large", "us-east-1c"), ("db.r6g.large", "us-east-1b")]
    assert len(plan["not_orderable"]) == 3
    assert mutating_calls(report) == []


# 7. creating ------------------------------------------------------------------------------
def test_new_reader_is_named_tagged_and_configured_like_the_writer(world):
    world["policies"]["orders"]["promotion_tier"] = 7
    writer = world["clusters"][0]["instances"][0]
    writer.update(monitoring_interval=30, monitoring_role_arn="arn:aws:iam::123456789012:role/rds-monitoring-role",
                  performance_insights=True, ca_certificate="rds-ca-rsa2048-g1")
    report = run(world)
    (params,) = created(report)
    name = report["execution_name"]
    assert params["DBInstanceIdentifier"].startswith("orders-aops-")
    assert params["DBInstanceIdentifier"] == report["output"]["instance_id"]
    assert params["PromotionTier"] == 7
    assert params["DBParameterGroupName"] == "orders-pg"
    assert params["MonitoringInterval"] == 30
    assert params["MonitoringRoleArn"] == "arn:aws:iam::123456789012:role/rds-monitoring-role"  # MonitoringRoleNames
    assert params["EnablePerformanceInsights"] is True
    assert params["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert params["Tags"] == [{"Key": CREATED_BY_TAG, "Value": name}]
    new = next(i for c in report["world"]["clusters"] for i in c["instances"] if i["id"] == params["DBInstanceIdentifier"])
    assert new["tags"] == {CREATED_BY_TAG: name} and new["status"] == "available" and not new["writer"]


def test_a_monitoring_role_the_stack_may_not_pass_gives_a_reader_without_enhanced_monitoring(world):
    """IAM lets the stack pass only MonitoringRoleNames' roles: copying another would be AccessDenied."""
    writer = world["clusters"][0]["instances"][0]
    writer.update(monitoring_interval=30, monitoring_role_arn="arn:aws:iam::123456789012:role/team/custom-monitoring")
    report = run(world)
    (params,) = created(report)
    assert params["MonitoringInterval"] == 0 and "MonitoringRoleArn" not in params
    assert report["output"]["action"] == "created"
    (warning,) = report["output"]["warnings"]
    assert warning.startswith("monitoring-role-not-allowed:") and "team/custom-monitoring" in warning


def test_insufficient_capacity_moves_on_to_the_next_candidate(world):
    world["faults"] = {"insufficient_capacity": [{"class": "db.r6g.large", "az": "us-east-1a"}]}
    report = run(world)
    assert tried(report) == [("db.r6g.large", "us-east-1a"), ("db.r6g.large", "us-east-1c")]
    assert report["output"]["attempts"] == [
        {"instance_class": "db.r6g.large", "availability_zone": "us-east-1a", "result": "insufficient-capacity"},
        {"instance_class": "db.r6g.large", "availability_zone": "us-east-1c", "result": "available"},
    ]


def test_throttling_is_retried_with_backoff(world):
    world["faults"] = {"api_errors": [{"operation": "CreateDBInstance", "code": "Throttling", "times": 2}]}
    report = run(world)
    assert report["status"] == "SUCCEEDED"
    assert [c["error"] for c in calls(report, "CreateDBInstance")] == ["Throttling", "Throttling", None]
    assert report["states"].count("CreateReader") == 1
    baseline = run({**world, "faults": {}})
    assert report["transitions"] == baseline["transitions"] + 2  # each retry is billed
    assert report["simulated_seconds"] > baseline["simulated_seconds"]  # the retries waited


def test_any_other_create_error_fails_the_execution(world):
    world["faults"] = {"api_errors": [{"operation": "CreateDBInstance", "code": "InvalidParameterCombination"}]}
    report = run(world)
    assert report["status"] == "FAILED"
    assert report["error"] == "InvalidParameterCombination"
    assert len(calls(report, "CreateDBInstance")) == 1


# 8. waiting, and readers lost after creation ---------------------------------------------------------
def test_waits_until_available_using_wait_states(world):
    world["timing"]["polls_until_available"] = 3
    report = run(world)
    assert report["output"]["action"] == "created"
    assert report["states"].count("WaitForReader") == 4
    assert len([c for c in calls(report, "DescribeDBInstances") if "DBInstanceIdentifier" in c["params"]]) == 4
    assert report["simulated_seconds"] >= 300 + 3 * 60


def test_reader_lost_to_capacity_is_deleted_and_the_next_candidate_tried(world):
    world["faults"] = {"capacity_lost": [{"class": "db.r6g.large", "az": "us-east-1a"}]}
    world["timing"]["polls_until_deleted"] = 2
    report = run(world)
    assert report["output"]["action"] == "created"
    lost_id = created(report)[0]["DBInstanceIdentifier"]
    assert [c["params"]["DBInstanceIdentifier"] for c in calls(report, "DeleteDBInstance")] == [lost_id]
    assert report["states"].count("CheckDeleted") == 3
    assert [a["result"] for a in report["output"]["attempts"]] == ["capacity-lost", "available"]
    assert lost_id not in instance_ids(report["world"])
    assert report["output"]["availability_zone"] == "us-east-1c"


def test_a_reader_that_never_becomes_available_is_given_up_on(world):
    world["timing"]["polls_until_available"] = 1000
    world["policies"]["orders"]["instance_classes"] = ["db.r6g.large"]
    world["policies"]["orders"]["availability_zones"] = ["us-east-1a"]
    report = run(world)
    assert report["status"] == "FAILED" and report["error"] == "NoCapacityAvailable"
    limit = scale_up.MAX_CREATE_POLLS
    assert report["states"].count("CheckReader") == limit
    assert [a["result"] for a in json.loads(report["cause"])["attempts"]] == [f"failed: still creating after {limit} polls"]
    assert instance_ids(report["world"]) == {"orders-1", "orders-2"}


# 9. exhaustion ------------------------------------------------------------------------------
def test_all_candidates_exhausted_fails_with_the_attempts_and_leaves_nothing(world):
    world["faults"] = {"insufficient_capacity": [{"class": "db.r6g.large", "az": "*"}],
                       "capacity_lost": [{"class": "db.r6g.xlarge", "az": "*"}]}
    report = run(world)
    assert report["status"] == "FAILED"
    assert report["error"] == "NoCapacityAvailable"
    cause = json.loads(report["cause"])
    assert [(a["instance_class"], a["result"]) for a in cause["attempts"]] == (
        [("db.r6g.large", "insufficient-capacity")] * 3 + [("db.r6g.xlarge", "capacity-lost")] * 3)
    assert instance_ids(report["world"]) == {"orders-1", "orders-2"}
    assert report["world"]["locks"] == []


# 10. outcome, metrics, notifications ------------------------------------------------------------------
def test_every_outcome_has_the_same_shape_and_a_metric(world):
    created_report = run(world)
    none_report = run(world, {"cluster_id": "nope"})
    dry_report = run(world, {"cluster_id": "orders", "dry_run": True})
    world["faults"] = ALL_LARGE_SHORT
    failed_report = run(world)
    outcomes = [created_report["output"], none_report["output"], dry_report["output"],
                json.loads(failed_report["cause"])]
    assert all(set(o) == OUTCOME_KEYS for o in outcomes)
    assert [o["action"] for o in outcomes] == ["created", "none", "dry-run", "failed"]
    names = [{m["name"] for m in r["metrics"]} for r in (created_report, none_report, dry_report, failed_report)]
    assert names[0] == {"ReadersCreated", "SecondsToAvailable"}
    assert names[1] == {"NoAction"} and names[2] == {"DryRuns"}
    assert names[3] == {"WorkflowFailures", "CapacityFallbacks"}
    seconds = next(m for m in created_report["metrics"] if m["name"] == "SecondsToAvailable")["value"]
    # from the start to Finish, which runs (and is charged simulated time) after it
    assert created_report["simulated_seconds"] - 1 <= seconds[0] <= created_report["simulated_seconds"]


def test_created_output_and_notification(world):
    report = run(world)
    output = report["output"]
    assert output["action"] == "created" and output["cluster_id"] == "orders"
    assert (output["instance_class"], output["availability_zone"]) == ("db.r6g.large", "us-east-1a")
    assert output["attempts"] == [{"instance_class": "db.r6g.large", "availability_zone": "us-east-1a", "result": "available"}]
    (publish,) = calls(report, "Publish")
    assert json.loads(publish["params"]["Message"])["instance_id"] == output["instance_id"]


def test_no_notification_for_routine_no_ops(world):
    assert calls(run(world, {"cluster_id": "nope"}), "Publish") == []


# guards against runaway work -----------------------------------------------------------------------
def test_our_own_failed_create_does_not_start_another_scale_up(world):
    event = load_event("cloudtrail-capacity-failure.json")
    event["detail"]["requestParameters"]["dBInstanceIdentifier"] = "orders-aops-0123abcd-2"
    report = run(world, event)
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "own-request")
    assert report["aws_calls"] == []


def test_gives_up_after_three_readers_lost_after_creation(world):
    world["faults"] = {"capacity_lost": [{"class": "db.r6g.large", "az": "*"}, {"class": "db.r6g.xlarge", "az": "*"}]}
    report = run(world)
    assert report["error"] == "NoCapacityAvailable"
    assert len(created(report)) == 3
    assert "gave up after 3" in json.loads(report["cause"])["message"]
    assert instance_ids(report["world"]) == {"orders-1", "orders-2"}


def test_an_alarm_event_that_is_not_in_alarm_changes_nothing(world):
    event = load_event("alarm-reader-load.json")
    event["detail"]["state"]["value"] = "OK"
    report = run(world, event)
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "alarm-not-in-alarm")
    assert report["aws_calls"] == []


# policy v2 and observe mode --------------------------------------------------------------------
def test_a_cluster_tagged_with_a_named_policy_is_managed_and_an_unknown_name_is_said(world):
    world["policies"] = {"policies": {"oltp": world["policies"]["orders"]}}
    world["clusters"][0]["tags"] = {"aurora-ops:policy": "oltp"}
    assert run(world)["output"]["action"] == "created"
    world["clusters"][0]["tags"] = {"aurora-ops:policy": "olt"}
    report = run(world)
    assert (report["output"]["action"], report["output"]["reason"]) == ("none", "unknown-policy")
    assert mutating_calls(report) == []


def test_observe_mode_turns_an_event_into_a_dry_run_that_notifies_and_writes_nothing(world):
    world["parameters"] = {"Mode": "observe"}
    report = run(world, load_event("cloudtrail-capacity-failure.json"))
    assert report["status"] == "SUCCEEDED"
    assert (report["output"]["action"], report["output"]["observed"]) == ("dry-run", True)
    assert report["output"]["plan"]["candidates"]
    assert [c["operation"] for c in mutating_calls(report)] == ["Publish"]  # no reader, no lock, no marker
    assert "observe mode" in report["notifications"][0]["subject"]
    assert run(world, MANUAL)["output"]["action"] == "created"  # started by hand: acts
