"""Switchover, failover behind the data-loss gate and detach-and-promote of a global
cluster, each refusal and each pre-check, in the simulator."""

import copy
import json

import boto3
import pytest

from aurora_ops.workflows.failover.decisions import OUTPUT_FIELDS
from aurora_ops_sim import Simulation, patches, simulate
from conftest import calls, failover_result as result, mutating_calls

OPERATIONS = "switchover failover detach-and-promote"
WORLD = {
    "now": "2026-11-24T12:00:00Z",
    "policies": {"defaults": {"failover": {"allowed": OPERATIONS.split()}}, "policies": {},
                 "clusters": {"orders": {}, "orders-west": {}, "orders-eu": {}}},
    "clusters": [
        {"id": "orders", "engine": "aurora-postgresql", "global_cluster": "orders-global",
         "tags": {"aurora-ops:failover": OPERATIONS},
         "instances": [{"id": "orders-1", "class": "db.r6g.large", "az": "us-east-1a", "writer": True},
                       {"id": "orders-2", "class": "db.r6g.large", "az": "us-east-1b"}]},
        {"id": "orders-west", "region": "us-west-2", "engine": "aurora-postgresql", "global_cluster": "orders-global",
         "rpo_lag_ms": 800, "tags": {"aurora-ops:failover": OPERATIONS},
         "instances": [{"id": "orders-west-1", "class": "db.r6g.large", "az": "us-west-2a"},
                       {"id": "orders-west-2", "class": "db.r6g.large", "az": "us-west-2b"}]},
        {"id": "orders-eu", "region": "eu-west-1", "engine": "aurora-postgresql", "global_cluster": "orders-global",
         "rpo_lag_ms": 2500, "tags": {"aurora-ops:failover": OPERATIONS},
         "instances": [{"id": "orders-eu-1", "class": "db.r6g.large", "az": "eu-west-1a"}]},
    ],
    "global_clusters": [{"id": "orders-global", "engine": "aurora-postgresql", "engine_version": "16.4",
                         "members": ["orders", "orders-west", "orders-eu"]}],
    "timing": {"polls_until_failed_over": 2},
}
SWITCHOVER = {"operation": "switchover", "global_cluster_id": "orders-global", "target_cluster_id": "orders-west",
              "dry_run": False}
FAILOVER = {"operation": "failover", "global_cluster_id": "orders-global", "target_cluster_id": None,
            "max_data_loss_seconds": 30, "dry_run": False}
DETACH = {"operation": "detach-and-promote", "global_cluster_id": "orders-global", "target_cluster_id": "orders-west",
          "max_data_loss_seconds": 30, "dry_run": False}
WEST_ARN = "arn:aws:rds:us-west-2:123456789012:cluster:orders-west"


@pytest.fixture
def world():
    return copy.deepcopy(WORLD)


def cluster(world, cluster_id):
    return next(c for c in world["clusters"] if c["id"] == cluster_id)


def run(world, execution_input):
    return simulate("failover", world, execution_input, echo_handler_output=False)


def primary(report, global_id="orders-global"):
    found = next(g for g in report["world"]["global_clusters"] if g["id"] == global_id)
    writers = [c["id"] for c in report["world"]["clusters"] if c["id"] in found["members"]
               and any(i["writer"] for i in c["instances"])]
    assert len(writers) == 1, writers
    return writers[0]


def members(report, global_id="orders-global"):
    return set(next(g for g in report["world"]["global_clusters"] if g["id"] == global_id)["members"])


def completed(report):
    output = result(report)
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert output["outcome"] == "completed" and tuple(output)[:len(OUTPUT_FIELDS)] == OUTPUT_FIELDS
    assert all(c["ok"] for c in output["checks"])
    assert report["world"]["locks"] == []
    assert [n["message"]["outcome"] for n in report["notifications"]] == ["completed"]
    timings = output["timings"]
    assert 0 < timings["writer_changed_after_seconds"] <= timings["available_after_seconds"] <= timings["total_seconds"]
    return output


# ------------------------------------------------------------------ operations
def test_a_switchover_makes_the_target_primary_and_loses_nothing(world):
    report = run(world, SWITCHOVER)
    output = completed(report)
    assert (output["from"], output["to"], output["data_loss_window_seconds"]) == ("orders", "orders-west", 0)
    assert [(c["region"], c["params"]) for c in calls(report, "SwitchoverGlobalCluster")] == [
        ("us-west-2", {"GlobalClusterIdentifier": "orders-global", "TargetDbClusterIdentifier": WEST_ARN})]
    assert primary(report) == "orders-west" and members(report) == {"orders", "orders-west", "orders-eu"}
    # it polled until the global cluster had no FailoverState any more, 5 s apart
    assert report["states"].count("CheckProgress") == 3 and 14 <= output["timings"]["available_after_seconds"] <= 17


def test_a_failover_picks_the_secondary_with_the_lowest_lag_and_reports_it_as_the_data_loss_window(world):
    report = run(world, FAILOVER)
    output = completed(report)
    assert output["to"] == "orders-west" and output["data_loss_window_seconds"] == 0.8
    assert [c["params"] for c in calls(report, "FailoverGlobalCluster")] == [
        {"GlobalClusterIdentifier": "orders-global", "TargetDbClusterIdentifier": WEST_ARN, "AllowDataLoss": True}]
    assert primary(report) == "orders-west"
    assert "orders" in json.dumps(output["checks"])


def test_a_failover_to_a_named_secondary(world):
    report = run(world, {**FAILOVER, "target_cluster_id": "orders-eu"})
    output = completed(report)
    assert (output["to"], output["data_loss_window_seconds"]) == ("orders-eu", 2.5) and primary(report) == "orders-eu"


def test_a_failover_needs_no_answer_from_the_impaired_primary_region(world):
    world["faults"] = {"api_errors": [{"operation": "DescribeDBClusters", "code": "InternalFailure", "times": 1}]}
    report = run(world, FAILOVER)
    assert calls(report, "DescribeDBClusters")[0]["error"] == "InternalFailure"
    assert completed(report)["to"] == "orders-west"


def test_detach_and_promote_makes_the_target_a_standalone_cluster_with_a_writer(world):
    report = run(world, DETACH)
    output = completed(report)
    assert (output["to"], output["data_loss_window_seconds"]) == ("orders-west", 0.8)
    assert [(c["region"], c["params"]) for c in calls(report, "RemoveFromGlobalCluster")] == [
        ("us-west-2", {"GlobalClusterIdentifier": "orders-global", "DbClusterIdentifier": WEST_ARN})]
    assert members(report) == {"orders", "orders-eu"}
    west = next(c for c in report["world"]["clusters"] if c["id"] == "orders-west")
    assert sum(i["writer"] for i in west["instances"]) == 1 and west["status"] == "available"


# ------------------------------------------------------------------ the data-loss gate
def refused(report, reason, operation_call):
    output = result(report)
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert (output["outcome"], output["reason"]) == ("refused", reason)
    assert [c["name"] for c in output["checks"] if not c["ok"]][0] == reason
    assert not calls(report, operation_call)
    assert not [lock for lock in report["world"]["locks"] if lock["owner"].startswith("sim-failover")]
    assert [n["message"]["reason"] for n in report["notifications"]] == [reason]
    return output


@pytest.mark.parametrize("request_", [FAILOVER, DETACH], ids=["failover", "detach-and-promote"])
def test_refused_when_the_lag_is_above_the_limit(world, request_):
    cluster(world, "orders-west")["rpo_lag_ms"] = 45000
    cluster(world, "orders-eu")["rpo_lag_ms"] = 60000
    output = refused(run(world, request_), "data-loss-above-limit",
                     "FailoverGlobalCluster" if request_ is FAILOVER else "RemoveFromGlobalCluster")
    assert output["data_loss_window_seconds"] == 45.0 and output["to"] == "orders-west"


def test_the_gate_reads_the_worst_datapoint_of_the_last_five_minutes(world):
    # per minute, the last at `now`: 40 s of lag three minutes ago, small now
    cluster(world, "orders-west")["rpo_lag_ms"] = [90000, 100, 100, 40000, 100, 100, 100]
    output = refused(run(world, {**FAILOVER, "target_cluster_id": "orders-west"}), "data-loss-above-limit",
                     "FailoverGlobalCluster")
    assert output["data_loss_window_seconds"] == 40.0  # the 90 s spike is older than five minutes


def test_refused_without_lag_data(world):
    for cluster_id in ("orders-west", "orders-eu"):
        del cluster(world, cluster_id)["rpo_lag_ms"]
    output = refused(run(world, FAILOVER), "no-lag-data", "FailoverGlobalCluster")
    assert output["data_loss_window_seconds"] is None


def test_a_failover_without_a_limit_is_invalid_input(world):
    report = run(world, {k: v for k, v in FAILOVER.items() if k != "max_data_loss_seconds"})
    assert (report["status"], report["error"]) == ("FAILED", "InvalidInput") and mutating_calls(report) == []
    assert "max_data_loss_seconds" in report["cause"]


# ------------------------------------------------------------------ pre-checks
def test_refused_when_a_member_does_not_allow_the_operation(world):
    world["policies"]["clusters"]["orders-eu"] = {"failover": {"allowed": ["failover"]}}
    assert "orders-eu" in refused(run(world, SWITCHOVER), "not-allowed", "SwitchoverGlobalCluster")["message"]


def test_refused_when_the_targets_tag_does_not_opt_in(world):
    cluster(world, "orders-west")["tags"] = {"aurora-ops:failover": "drill"}
    refused(run(world, FAILOVER), "not-allowed", "FailoverGlobalCluster")


def test_refused_when_a_member_is_not_available(world):
    cluster(world, "orders-eu")["status"] = "modifying"
    refused(run(world, SWITCHOVER), "not-available", "SwitchoverGlobalCluster")


def test_a_switchover_is_refused_while_the_global_cluster_is_not_available(world):
    world["global_clusters"][0]["status"] = "upgrading"
    assert "orders-global is upgrading" in refused(run(world, SWITCHOVER), "not-available",
                                                   "SwitchoverGlobalCluster")["message"]


def test_refused_when_the_global_cluster_does_not_exist(world):
    refused(run(world, {**SWITCHOVER, "global_cluster_id": "nowhere-global"}), "not-available",
            "SwitchoverGlobalCluster")


def test_refused_when_the_target_has_no_instances(world):
    cluster(world, "orders-west")["instances"] = []
    refused(run(world, {**FAILOVER, "target_cluster_id": "orders-west"}), "no-instances", "FailoverGlobalCluster")


def test_refused_when_another_operation_holds_a_members_lock(world):
    world["locks"] = [{"cluster": "orders-eu", "owner": "sim-scale-up-7", "workflow": "scale-up"}]
    output = refused(run(world, SWITCHOVER), "locked", "SwitchoverGlobalCluster")
    assert "orders-eu is locked by sim-scale-up-7" in output["message"]


def test_refused_when_the_members_engine_versions_differ(world):
    cluster(world, "orders-eu")["engine_version"] = "16.2"
    output = refused(run(world, SWITCHOVER), "engine-version-mismatch", "SwitchoverGlobalCluster")
    assert "orders-eu 16.2" in output["message"]


def test_a_switchover_is_refused_when_a_secondary_is_not_connected(world):
    cluster(world, "orders-eu")["synchronization_status"] = "pending-resync"
    refused(run(world, SWITCHOVER), "secondary-not-connected", "SwitchoverGlobalCluster")


def test_a_failover_does_not_wait_for_a_secondary_that_is_not_connected(world):
    cluster(world, "orders-eu")["synchronization_status"] = "pending-resync"
    assert "secondary-not-connected" not in {c["name"] for c in completed(run(world, FAILOVER))["checks"]}


@pytest.mark.parametrize("target, detail", [("elsewhere", "not a member"), ("orders", "the primary already")])
def test_refused_when_the_target_is_not_a_secondary(world, target, detail):
    output = refused(run(world, {**SWITCHOVER, "target_cluster_id": target}), "target-not-member",
                     "SwitchoverGlobalCluster")
    assert detail in output["message"]


def test_refused_while_another_switchover_is_in_progress(world):
    world["timing"]["polls_until_failed_over"] = 50
    with Simulation(world, echo_handler_output=False) as simulation:
        patches.in_handler.on = True  # someone else's switchover, through the simulator's model of RDS
        try:
            boto3.client("rds", region_name="us-west-2").switchover_global_cluster(
                GlobalClusterIdentifier="orders-global", TargetDbClusterIdentifier=WEST_ARN)
        finally:
            patches.in_handler.on = False
        report = simulation.run("failover", {**SWITCHOVER, "target_cluster_id": "orders-eu"})
    refused(report, "operation-in-progress", "SwitchoverGlobalCluster")


def test_a_dry_run_runs_every_check_and_changes_nothing(world):
    report = run(world, {**FAILOVER, "dry_run": True})
    output = result(report)
    assert (output["outcome"], output["to"], output["data_loss_window_seconds"]) == ("dry-run", "orders-west", 0.8)
    assert {"not-allowed", "operation-in-progress", "target-not-member", "not-available", "no-instances",
            "engine-version-mismatch", "no-lag-data", "data-loss-above-limit", "duplicate-start",
            "locked"} <= {c["name"] for c in output["checks"]}
    assert mutating_calls(report) == [] and report["notifications"] == []


def test_a_dry_run_that_would_be_refused_says_why_and_notifies_nobody(world):
    cluster(world, "orders-west")["rpo_lag_ms"] = 45000
    report = run(world, {**FAILOVER, "target_cluster_id": "orders-west", "dry_run": True})
    assert (result(report)["outcome"], result(report)["reason"]) == ("refused", "data-loss-above-limit")
    assert mutating_calls(report) == [] and report["notifications"] == []


# ------------------------------------------------------------------ faults
def test_an_aws_refusal_fails_the_execution_and_releases_every_lock(world):
    world["faults"] = {"api_errors": [{"operation": "SwitchoverGlobalCluster", "code": "InvalidGlobalClusterStateFault"}]}
    report = run(world, SWITCHOVER)
    output = result(report)
    assert (report["status"], report["error"], output["outcome"]) == ("FAILED", "InvalidGlobalClusterStateFault",
                                                                       "failed")
    assert report["world"]["locks"] == [] and primary(report) == "orders"
    assert [n["message"]["outcome"] for n in report["notifications"]] == ["failed"]


def test_a_lost_response_does_not_switch_over_twice(world):
    world["faults"] = {"lambda": [{"state": "StartOperation", "fault": "lost-response"}]}
    report = run(world, SWITCHOVER)
    completed(report)
    assert len(calls(report, "SwitchoverGlobalCluster")) == 1


def test_a_duplicate_start_changes_the_primary_once(world):
    world["faults"] = {"duplicate_start": True}
    report = run(world, SWITCHOVER)
    completed(report)
    assert report["duplicate"]["output"]["outcome"] == "refused"
    assert not [c for c in report["duplicate"]["aws_calls"] if c["operation"] == "SwitchoverGlobalCluster"]
    assert primary(report) == "orders-west"


def test_after_a_failure_the_same_request_runs_again(world):
    world["faults"] = {"api_errors": [{"operation": "SwitchoverGlobalCluster", "code": "InternalFailure", "times": 7}]}
    with Simulation(world, echo_handler_output=False) as simulation:
        first = simulation.run("failover", SWITCHOVER)
        second = simulation.run("failover", SWITCHOVER)
    assert (first["status"], first["error"]) == ("FAILED", "AwsUnavailable")
    assert completed(second)["to"] == "orders-west"  # a new attempt, not a duplicate start
