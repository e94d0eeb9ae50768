"""Snapshot-restore under the failures real AWS has, each injected through the world
file; and the input rules that keep a request unambiguous."""

import copy
import json

import pytest

from aurora_ops.core.tags import CREATED_BY_TAG
from aurora_ops.workflows.snapshot_restore.decisions import instance_slots
from aurora_ops_sim import simulate
from conftest import calls
from test_snapshot_restore_simulation import INPUT, WORLD

CROSS_REGION = {**INPUT, "target": {**INPUT["target"], "region": "us-west-2", "kms_key_id": "alias/orders-west"}}


@pytest.fixture
def world():
    return copy.deepcopy(WORLD)


def run(world, execution_input=INPUT):
    return simulate("snapshot-restore", world, copy.deepcopy(execution_input), echo_handler_output=False)


def created(report):
    """Everything of this system's left in the world: clusters, instances and snapshots."""
    found = []
    for cluster in report["world"]["clusters"]:
        if CREATED_BY_TAG in cluster.get("tags", {}) and cluster["status"] != "deleted":
            found.append(cluster["id"])
        found += [i["id"] for i in cluster["instances"] if CREATED_BY_TAG in i["tags"] and i["status"] != "deleting"]
    found += [s["id"] for s in report["world"]["snapshots"] if CREATED_BY_TAG in s.get("tags", {})]
    return sorted(found)


@pytest.mark.parametrize("state", ["CopySnapshot", "RestoreCluster", "ManagePassword", "CreateInstance",
                                   "CheckInstances", "Finalize"])
@pytest.mark.parametrize("fault", ["lost-response", "timeout"])
def test_a_step_that_ran_but_whose_answer_was_lost_is_safe_to_repeat(world, state, fault):
    world["faults"] = {"lambda": [{"state": state, "fault": fault}]}
    report = run(world, CROSS_REGION)
    assert report["status"] == "SUCCEEDED", report["cause"]
    output = report["output"]
    assert created(report) == sorted([output["cluster_id"], *(i["instance_id"] for i in output["instances"])])
    assert len([c for c in calls(report, "ModifyDBCluster") if not c["error"]]) == 1


def test_a_notification_that_fails_never_deletes_a_restore_that_succeeded(world):
    world["faults"] = {"api_errors": [{"service": "sns", "operation": "Publish", "code": "KMSAccessDenied"}]}
    report = run(world)
    assert report["status"] == "SUCCEEDED"
    assert report["output"]["warnings"][0].startswith("notification not sent: ")
    assert calls(report, "DeleteDBCluster") == [] and calls(report, "DeleteDBInstance") == []


def test_a_finalize_that_keeps_failing_keeps_the_complete_restore(world):
    world["faults"] = {"lambda": [{"state": "Finalize", "fault": "service-error", "times": 10}]}
    report = run(world)
    assert report["status"] == "FAILED" and report["error"] == "Lambda.ServiceException"
    cause = json.loads(report["cause"])
    assert set(cause["kept"]) == {"orders-restored", "orders-restored-1", "orders-restored-2"}
    assert calls(report, "DeleteDBCluster") == [] and calls(report, "DeleteDBInstance") == []


@pytest.mark.parametrize("fault", ["service-error", "throttled", "timeout"])
def test_a_rejection_with_a_plain_text_or_empty_cause_fails_with_its_name(world, fault):
    world["faults"] = {"lambda": [{"state": "Prepare", "fault": fault, "times": 10}]}
    report = run(world)
    expected = {"service-error": "Lambda.ServiceException", "throttled": "Lambda.TooManyRequestsException",
                "timeout": "StepTimeout"}[fault]
    assert (report["status"], report["error"]) == ("FAILED", expected)
    assert "States.Runtime" not in str(report["cause"])
    assert [c for c in report["aws_calls"] if c["operation"].startswith(("Create", "Restore", "Copy"))] == []


def test_a_bad_request_is_still_rejected_with_its_message(world):
    report = run(world, {"source": {"cluster_id": "orders"}, "target": {"cluster_id": "x", "instances": []}})
    assert (report["status"], report["error"]) == ("FAILED", "InvalidInput")
    assert report["cause"].startswith("input.target.instances")


def test_more_than_16_instances_is_invalid_input(world):
    request = copy.deepcopy(INPUT)
    request["target"]["instances"] = [{"instance_class": "db.r6g.large", "count": 9}] * 2
    report = run(world, request)
    assert (report["status"], report["error"]) == ("FAILED", "InvalidInput")
    assert "at most 16" in report["cause"]


def test_snapshot_null_with_a_restore_time_is_a_point_in_time_restore(world):
    request = copy.deepcopy(INPUT)
    request["source"].update(snapshot=None, restore_time="2026-11-24T09:30:00Z")
    report = run(world, request)
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert report["output"]["restore_time"] == "2026-11-24T09:30:00Z"
    assert len(calls(report, "RestoreDBClusterToPointInTime")) == 1


def test_a_snapshot_arn_sets_the_source_region_and_a_contradicting_region_is_invalid(world):
    request = copy.deepcopy(INPUT)
    request["source"] = {"cluster_id": "orders", "region": "eu-west-1",
                         "snapshot": "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:orders-manual-new"}
    report = run(world, request)
    assert (report["status"], report["error"]) == ("FAILED", "InvalidInput")
    assert report["cause"].startswith("input.source.region: eu-west-1 contradicts the snapshot ARN")
    del request["source"]["region"], request["target"]["region"]
    report = run(world, request)
    assert report["status"] == "SUCCEEDED" and report["output"]["region"] == "us-east-1"


def test_instance_names_stay_unique_when_two_long_targets_share_a_prefix():
    base = "orders-restored-for-the-quarterly-audit-of-the-payments-team"
    first = {s["name"] for s in instance_slots(base + "-a", [{"instance_class": "db.r6g.large", "count": 2}])}
    second = {s["name"] for s in instance_slots(base + "-b", [{"instance_class": "db.r6g.large", "count": 2}])}
    assert not first & second
    assert all(len(name) <= 63 - len("-12") for name in first | second)  # room for a fallback suffix
