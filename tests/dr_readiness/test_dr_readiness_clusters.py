"""dr-readiness in the simulator: the checks of a cluster, each passing and failing,
recorded in the state table and in the output; changes told once; input, dry runs,
observe mode."""

from datetime import UTC, datetime, timedelta

import pytest

from aurora_ops_sim import Simulation, simulate
from conftest import mutating_calls
from readiness_helpers import cluster_of, example, passed_drill, resources, table_item, told

ALL = {"trigger": "schedule"}


def run(world, execution_input=ALL):
    return simulate("dr-readiness", world, execution_input, echo_handler_output=False)


def checks(report, kind, resource_id):
    return resources(report)[(kind, resource_id)]["checks"]


def test_the_example_world_checks_every_resource_the_policy_covers():
    report = run(example())
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert set(resources(report)) == {("cluster", "orders"), ("cluster", "billing"), ("global", "orders-global"),
                                      ("dsql", "abc123")}  # orders-west: through its global cluster
    assert checks(report, "cluster", "orders") == {
        "cluster-exists": "pass", "snapshot-fresh": "pass", "drill-recent": "fail", "readers-in-two-azs": "pass",
        "reader-as-large-as-writer": "pass"}
    assert checks(report, "cluster", "billing") == {
        "cluster-exists": "pass", "snapshot-fresh": "fail", "drill-recent": "skip", "readers-in-two-azs": "fail",
        "reader-as-large-as-writer": "fail"}
    billing = resources(report)[("cluster", "billing")]["problems"]
    assert billing["snapshot-fresh"] == "newest: billing-manual-1 (manual), taken 30.0 h ago; limit 26 h"
    assert billing["readers-in-two-azs"] == "serving readers in us-east-1b only"
    assert "writer's db.r6g.xlarge (billing-2 db.r6g.large)" in billing["reader-as-large-as-writer"]
    assert report["output"]["counts"] == {"resources": 4, "ready": 2, "not_ready": 2}
    assert report["output"]["ready"] is False
    # first seen: the two not ready are told in one message; the ready ones are not
    assert told(report) == {("cluster", "orders"): False, ("cluster", "billing"): False}
    (notification,) = report["notifications"]
    assert notification["subject"] == "aurora-ops dr-readiness: 2 NOT ready"
    failed = {c["id"]: [f["name"] for f in c["failed"]] for c in notification["message"]["changes"]}
    assert failed == {"orders": ["drill-recent"],
                      "billing": ["snapshot-fresh", "readers-in-two-azs", "reader-as-large-as-writer"]}
    # nothing but the state table and the topic is written
    assert {c["operation"] for c in mutating_calls(report)} == {"UpdateItem", "Publish"}


def test_every_check_and_its_detail_is_readable_in_the_state_table():
    with Simulation(example(), echo_handler_output=False) as simulation:
        report = simulation.run("dr-readiness", ALL)
        billing = table_item(simulation, "cluster", "billing")
        orders_global = table_item(simulation, "global", "orders-global")
    assert billing["ready"] is False and billing["notified_ready"] is False
    assert billing["failed"] == ["snapshot-fresh", "readers-in-two-azs", "reader-as-large-as-writer"]
    assert billing["checks"]["drill-recent"] == {"state": "skip", "detail": "restore_drill.enabled is false"}
    assert billing["checks"]["snapshot-fresh"]["detail"].endswith("taken 30.0 h ago; limit 26 h")
    assert orders_global["ready"] is True and orders_global["notified_ready"] is True  # recorded, never told
    assert orders_global["checks"]["rpo-lag-within-target"]["detail"] == \
        "worst of 5 min: orders-west: 0.8 s; target 30 s"
    assert billing["since"] == resources(report)[("cluster", "billing")]["since"]


@pytest.mark.parametrize("hours,state", [(25, "pass"), (27, "fail")])
def test_a_stale_snapshot_fails_and_a_fresh_one_passes(hours, state):
    world = example()  # the limit: 26 hours (the defaults)
    created = (datetime(2026, 11, 24, 12, tzinfo=UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    world["snapshots"] = [s for s in world["snapshots"] if s["cluster"] != "billing"] + [
        {"id": "billing-auto", "cluster": "billing", "type": "automated", "engine": "aurora-mysql",
         "engine_version": "8.0.mysql_aurora.3.05.2", "created": created}]
    report = run(world)
    assert checks(report, "cluster", "billing")["snapshot-fresh"] == state
    world["policies"]["clusters"]["billing"] = {"dr": {"max_snapshot_age_hours": 24}}  # the cluster's own limit
    assert checks(run(world), "cluster", "billing")["snapshot-fresh"] == "fail"


def test_a_snapshot_still_being_created_does_not_count():
    world = example()
    world["snapshots"].append({"id": "billing-creating", "cluster": "billing", "type": "manual", "status": "creating",
                               "created": "2026-11-24T11:00:00Z", "engine": "aurora-mysql",
                               "engine_version": "8.0.mysql_aurora.3.05.2"})
    report = run(world)
    assert "billing-manual-1" in resources(report)[("cluster", "billing")]["problems"]["snapshot-fresh"]


def test_no_snapshot_at_all_fails():
    world = example()
    world["snapshots"] = []
    report = run(world)
    assert resources(report)[("cluster", "orders")]["problems"]["snapshot-fresh"] == "no available snapshot"


@pytest.mark.parametrize("days_ago,state", [(None, "fail"), (9, "fail"), (2, "pass")])
def test_restore_drills_no_drill_or_an_old_one_fails_a_recent_one_passes(days_ago, state):
    with Simulation(example(), echo_handler_output=False) as simulation:
        if days_ago is not None:
            passed_drill(simulation, "orders", days_ago)
        report = simulation.run("dr-readiness", ALL)
    orders = resources(report)[("cluster", "orders")]
    assert orders["checks"]["drill-recent"] == state
    assert orders["ready"] is (state == "pass")
    if days_ago == 9:
        assert orders["problems"]["drill-recent"] == \
            f"last passed drill 9.0 days ago (sim-restore-drill-9); limit 8 days"


def test_drills_are_not_required_where_the_policy_does_not_enable_them():
    world = example()
    world["policies"]["clusters"]["orders"] = {}
    report = run(world)
    assert checks(report, "cluster", "orders")["drill-recent"] == "skip"
    assert resources(report)[("cluster", "orders")]["ready"] is True
    assert not any(c["operation"] == "BatchGetItem" and "drill" in str(c["params"]) for c in report["aws_calls"])


def test_readers_in_one_az_and_no_reader_as_large_as_the_writer_fail():
    world = example()
    orders = cluster_of(world, "orders")
    orders["instances"] = [
        {"id": "orders-1", "class": "db.r6g.2xlarge", "az": "us-east-1a", "writer": True},
        {"id": "orders-2", "class": "db.r6g.xlarge", "az": "us-east-1b"},
        {"id": "orders-3", "class": "db.r6g.xlarge", "az": "us-east-1b"},
        {"id": "orders-4", "class": "db.r6g.4xlarge", "az": "us-east-1c", "status": "deleting"}]
    report = run(world)
    orders_checks = checks(report, "cluster", "orders")
    assert orders_checks["readers-in-two-azs"] == orders_checks["reader-as-large-as-writer"] == "fail"


def test_a_serverless_reader_is_as_large_as_its_max_acu():
    world = example()
    orders = cluster_of(world, "orders")
    orders["serverless_v2"] = {"min_acu": 2, "max_acu": 16}  # 32 GiB: a db.r6g.xlarge's memory
    orders["instances"] = [
        {"id": "orders-1", "class": "db.r6g.xlarge", "az": "us-east-1a", "writer": True},
        {"id": "orders-2", "class": "db.serverless", "az": "us-east-1b"},
        {"id": "orders-3", "class": "db.r6g.large", "az": "us-east-1c"}]
    report = run(world)
    assert checks(report, "cluster", "orders")["reader-as-large-as-writer"] == "pass"
    orders["serverless_v2"]["max_acu"] = 8
    assert checks(run(world), "cluster", "orders")["reader-as-large-as-writer"] == "fail"


def test_a_named_cluster_that_does_not_exist_is_not_ready():
    world = example()
    world["policies"]["clusters"]["ghost"] = "standard"
    report = run(world)
    ghost = resources(report)[("cluster", "ghost")]
    assert ghost["ready"] is False and ghost["problems"] == {"cluster-exists": "ghost is not a cluster of us-east-1"}


def test_a_cluster_selected_by_its_tag_is_checked_and_an_unmanaged_one_is_not():
    world = example()
    world["clusters"].append({"id": "tagged", "engine": "aurora-postgresql", "tags": {"aurora-ops:policy": "standard"},
                              "instances": [{"id": "tagged-1", "class": "db.r6g.large", "az": "us-east-1a",
                                             "writer": True}]})
    world["clusters"].append({"id": "unmanaged", "engine": "aurora-postgresql",
                              "instances": [{"id": "unmanaged-1", "class": "db.r6g.large", "az": "us-east-1a",
                                             "writer": True}]})
    report = run(world)
    assert ("cluster", "tagged") in resources(report) and ("cluster", "unmanaged") not in resources(report)


# ------------------------------------------------------------ told once
def test_a_change_is_told_once_and_again_when_it_changes_back():
    """Not ready on the first run (no drill), nothing on the second, ready again after a
    restore drill passed, nothing on the fourth."""
    world = example()
    world["clusters"] = [c for c in world["clusters"] if c["id"] != "billing"]
    del world["policies"]["clusters"]["billing"]
    with Simulation(world, echo_handler_output=False) as simulation:
        first = simulation.run("dr-readiness", ALL)
        second = simulation.run("dr-readiness", ALL)
        passed_drill(simulation, "orders", 1)
        third = simulation.run("dr-readiness", ALL)
        fourth = simulation.run("dr-readiness", ALL)
        item = table_item(simulation, "cluster", "orders")
    assert told(first) == {("cluster", "orders"): False}
    assert second["notifications"] == [] and second["output"]["changes"] == []
    assert resources(second)[("cluster", "orders")]["ready"] is False  # still not ready, still recorded
    assert told(third) == {("cluster", "orders"): True}
    assert third["notifications"][0]["subject"] == "aurora-ops dr-readiness: cluster orders ready"
    assert fourth["notifications"] == []
    assert item["ready"] is True and item["notified_ready"] is True
    assert item["since"] == resources(third)[("cluster", "orders")]["since"] != \
        resources(first)[("cluster", "orders")]["since"]
    assert resources(fourth)[("cluster", "orders")]["since"] == item["since"]  # unchanged since the change


def test_a_duplicate_start_tells_nothing_more():
    world = example()
    world["faults"] = {"duplicate_start": True}
    report = run(world)
    assert len(told(report)) == 2
    assert report["duplicate"]["status"] == "SUCCEEDED"
    assert not [c for c in report["duplicate"]["aws_calls"] if c["operation"] == "Publish"]


def test_a_lost_answer_of_record_does_not_tell_twice():
    world = example()
    world["faults"] = {"lambda": [{"state": "Record", "fault": "lost-response", "times": 1}]}
    report = run(world)
    assert report["status"] == "SUCCEEDED"
    assert len(report["notifications"]) == 1 and report["states"].count("Record") == 1
    assert sum(1 for c in report["aws_calls"] if c["operation"] == "Publish") == 1
    assert report["output"]["changes"] == []  # the retry found the changes told already


def test_a_notification_that_cannot_be_sent_is_told_by_the_next_run():
    world = example()
    world["faults"] = {"api_errors": [{"service": "sns", "operation": "Publish", "code": "KMSAccessDenied",
                                       "times": 3}]}
    with Simulation(world, echo_handler_output=False) as simulation:
        failed = simulation.run("dr-readiness", ALL)
        billing = table_item(simulation, "cluster", "billing")
        again = simulation.run("dr-readiness", ALL)
    assert (failed["status"], failed["error"]) == ("FAILED", "ReadinessNotRecorded")
    assert failed["cause"].startswith("Record failed after its retries with NotificationFailed")
    assert failed["states"] == ["Assess", "Record", "Unrecorded", "UnrecordedFail"]
    assert sum(1 for c in failed["aws_calls"] if c["operation"] == "Publish") == 3  # Record retried twice
    assert billing["ready"] is False and billing["notified_ready"] is None  # recorded, the claim given back
    assert told(again) == {("cluster", "orders"): False, ("cluster", "billing"): False}


# ------------------------------------------------------------ input and modes
def test_one_resource_by_its_id():
    world = example()
    report = run(world, {"cluster_id": "Orders"})
    assert set(resources(report)) == {("cluster", "orders"), ("global", "orders-global")}
    assert set(resources(run(world, {"cluster_id": "orders-global"}))) == {("global", "orders-global")}
    assert set(resources(run(world, {"cluster_id": "abc123"}))) == {("dsql", "abc123")}
    nothing = run(world, {"cluster_id": "unmanaged"})
    assert nothing["status"] == "SUCCEEDED" and nothing["output"]["resources"] == []
    assert nothing["output"]["message"].startswith("unmanaged: no cluster, global cluster or DSQL cluster")
    assert mutating_calls(nothing) == []


def test_a_dry_run_records_nothing_and_tells_nobody_but_says_what_it_would_tell():
    with Simulation(example(), echo_handler_output=False) as simulation:
        report = simulation.run("dr-readiness", {"dry_run": True})
        assert table_item(simulation, "cluster", "billing") is None
    assert report["output"]["dry_run"] is True and mutating_calls(report) == []
    assert {(c["kind"], c["id"]) for c in report["output"]["changes"]} == {("cluster", "orders"), ("cluster", "billing")}


def test_observe_mode_changes_nothing_here_the_schedule_still_records_and_tells():
    world = example()
    world["parameters"] = {"Mode": "observe"}
    report = run(world)
    assert len(told(report)) == 2 and report["output"]["dry_run"] is False


@pytest.mark.parametrize("bad,field", [({"cluster_id": 7}, "input.cluster_id"), ({"dry_run": "yes"}, "input.dry_run"),
                                       ({"trigger": "cron"}, "input.trigger"), ({"colour": "red"}, "input"),
                                       ([], "input")])
def test_bad_input_fails_with_one_line_naming_the_field_and_changes_nothing(bad, field):
    report = run(example(), bad)
    assert (report["status"], report["error"]) == ("FAILED", "InvalidInput")
    assert report["cause"].startswith(field) and "\n" not in report["cause"]
    assert mutating_calls(report) == [] and report["notifications"] == []
