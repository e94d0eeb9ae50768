"""Every snapshot-restore behaviour, shown by running the real ASL and handlers in the simulator."""

import copy
import json

import pytest

from aurora_ops.core.tags import CREATED_BY_TAG, OPERATION_TAG
from aurora_ops_sim import Simulation, simulate
from conftest import calls, mutating_calls

WORLD = {
    "now": "2026-11-24T12:00:00Z",
    "clusters": [{
        "id": "orders", "engine": "aurora-postgresql", "engine_version": "16.4",
        "availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"],
        "earliest_restorable_time": "2026-11-20T00:00:00Z", "latest_restorable_time": "2026-11-24T11:55:00Z",
        "instances": [{"id": "orders-1", "class": "db.r6g.large", "az": "us-east-1a", "writer": True}],
    }],
    "snapshots": [
        {"id": "orders-manual-new", "cluster": "orders", "type": "manual", "created": "2026-11-23T06:00:00Z"},
        {"id": "rds:orders-2026-11-22-03-00", "cluster": "orders", "type": "automated", "created": "2026-11-22T03:00:00Z"},
        {"id": "orders-newest-but-failed", "cluster": "orders", "created": "2026-11-23T09:00:00Z", "status": "failed"},
        {"id": "rds:orders-2026-11-23-05-00", "cluster": "orders", "type": "automated", "created": "2026-11-23T05:00:00Z"},
        {"id": "orders-manual-old", "cluster": "orders", "type": "manual", "created": "2026-11-01T03:00:00Z"},
    ],
    "kms_keys": [{"alias": "alias/orders-west", "region": "us-west-2"}],
    "timing": {"polls_until_available": 1, "polls_until_deleted": 1},
}
INPUT = {
    "source": {"cluster_id": "orders", "snapshot": "latest", "restore_time": None, "region": "us-east-1"},
    "target": {"cluster_id": "orders-restored", "region": "us-east-1", "kms_key_id": None, "db_subnet_group": None,
               "vpc_security_group_ids": [], "db_cluster_parameter_group": None,
               "instances": [{"instance_class": "db.r6g.large", "availability_zone": None, "count": 2,
                              "promotion_tier": 1}],
               "tags": {"purpose": "drill"}},
    "options": {"delete_on_failure": True, "manage_master_password": True, "dry_run": False},
}
SOURCE_IDS = {"orders", "orders-1"} | {s["id"] for s in WORLD["snapshots"]}


@pytest.fixture
def world():
    return copy.deepcopy(WORLD)


@pytest.fixture
def request_():
    return copy.deepcopy(INPUT)


def run(world, execution_input):
    return simulate("snapshot-restore", world, execution_input)


def cluster(report, cluster_id, region="us-east-1"):
    return next((c for c in report["world"]["clusters"] if c["id"] == cluster_id and c["region"] == region), None)


def source_untouched(report):
    for call in mutating_calls(report):
        params = call["params"]
        touched = {params.get(k) for k in ("DBClusterIdentifier", "DBInstanceIdentifier", "DBClusterSnapshotIdentifier")}
        assert not touched & SOURCE_IDS, call
    return True


def test_restores_the_latest_snapshot_with_its_instances(world, request_):
    report = run(world, request_)
    assert report["status"] == "SUCCEEDED", report["cause"]
    output = report["output"]
    assert output["snapshot_id"] == "orders-manual-new"  # newest available by creation time
    assert (output["cluster_id"], output["region"]) == ("orders-restored", "us-east-1")
    assert [(i["instance_id"], i["role"]) for i in output["instances"]] == [
        ("orders-restored-1", "writer"), ("orders-restored-2", "reader")]
    assert {i["instance_class"] for i in output["instances"]} == {"db.r6g.large"}
    assert abs(output["duration_seconds"] - report["simulated_seconds"]) <= 1  # whole seconds
    restored = cluster(report, "orders-restored")
    assert restored["status"] == "available"
    assert restored["tags"][CREATED_BY_TAG] == report["execution_name"] and restored["tags"]["purpose"] == "drill"
    assert all(i["tags"][CREATED_BY_TAG] == report["execution_name"] for i in restored["instances"])
    assert source_untouched(report)


def test_latest_means_newest_available_by_creation_time_not_list_position(world, request_):
    world["snapshots"][0]["created"] = "2026-11-21T00:00:00Z"  # the manual one is now older
    assert run(world, request_)["output"]["snapshot_id"] == "rds:orders-2026-11-23-05-00"


def test_no_available_snapshot_is_snapshot_not_found(world, request_):
    for snapshot in world["snapshots"]:
        snapshot["status"] = "creating"
    report = run(world, request_)
    assert (report["status"], report["error"]) == ("FAILED", "SnapshotNotFound")
    assert mutating_calls(report) == []


def test_a_named_snapshot_and_an_arn(world, request_):
    request_["source"]["snapshot"] = "orders-manual-old"
    assert run(world, request_)["output"]["snapshot_id"] == "orders-manual-old"
    request_["source"]["snapshot"] = "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:orders-manual-old"
    assert run(world, request_)["output"]["snapshot_id"] == "orders-manual-old"
    request_["source"]["snapshot"] = "orders-newest-but-failed"
    assert run(world, request_)["error"] == "SnapshotNotFound"


def test_point_in_time_inside_and_outside_the_window(world, request_):
    request_["source"]["restore_time"] = "2026-11-23T18:30:00Z"
    report = run(world, request_)
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert report["output"]["restore_time"] == "2026-11-23T18:30:00Z"
    (pitr,) = calls(report, "RestoreDBClusterToPointInTime")
    assert pitr["params"]["SourceDBClusterIdentifier"] == "orders"
    request_["source"]["restore_time"] = "2026-11-24T11:58:00Z"  # after the latest restorable time
    late = run(world, request_)
    assert (late["status"], late["error"]) == ("FAILED", "InvalidInput")
    assert "restorable window" in late["cause"]
    assert mutating_calls(late) == []
    request_["source"]["restore_time"] = "latest-restorable"
    latest = run(world, request_)
    assert calls(latest, "RestoreDBClusterToPointInTime")[0]["params"]["UseLatestRestorableTime"] is True


def test_an_existing_target_that_is_not_ours_is_never_touched(world, request_):
    world["clusters"].append({"id": "orders-restored", "engine": "aurora-postgresql",
                              "instances": [{"id": "someone-1", "class": "db.r6g.large", "writer": True}]})
    report = run(world, request_)
    assert (report["status"], report["error"]) == ("FAILED", "TargetExists")
    assert mutating_calls(report) == []
    assert {i["id"] for i in cluster(report, "orders-restored")["instances"]} == {"someone-1"}


def test_a_rerun_resumes_its_own_operation(world, request_):
    request_["options"]["delete_on_failure"] = False
    world["faults"] = {"api_errors": [{"operation": "CreateDBInstance", "code": "InvalidParameterCombination"}]}
    with Simulation(world) as simulation:
        first = simulation.run("snapshot-restore", request_)
        second = simulation.run("snapshot-restore", request_)
    assert (first["status"], first["error"]) == ("FAILED", "InvalidParameterCombination")
    assert calls(first, "RestoreDBClusterFromSnapshot")
    assert second["status"] == "SUCCEEDED", second["cause"]
    assert second["output"]["resumed"] is True
    assert calls(second, "RestoreDBClusterFromSnapshot") == []
    assert len(cluster(second, "orders-restored")["instances"]) == 2
    (operation,) = second["world"]["operations"]
    assert operation["status"] == "succeeded" and operation["audit"] >= 6


def test_cross_region_copies_with_the_target_key_and_removes_the_copy(world, request_):
    world["snapshots"][0].update(encrypted=True, kms_key="alias/orders")
    world["kms_keys"].append({"alias": "alias/orders"})
    request_["target"].update(region="us-west-2", kms_key_id="alias/orders-west")
    world["timing"]["polls_until_available"] = 2
    report = run(world, request_)
    assert report["status"] == "SUCCEEDED", report["cause"]
    (copy_call,) = calls(report, "CopyDBClusterSnapshot")
    assert copy_call["params"]["KmsKeyId"] == "alias/orders-west"
    assert copy_call["params"]["SourceDBClusterSnapshotIdentifier"].endswith(":cluster-snapshot:orders-manual-new")
    assert report["states"].count("CheckCopy") == 3  # waited for the copy
    (restore,) = calls(report, "RestoreDBClusterFromSnapshot")
    assert restore["params"]["SnapshotIdentifier"] == copy_call["params"]["TargetDBClusterSnapshotIdentifier"]
    assert calls(report, "DeleteDBClusterSnapshot")[0]["params"]["DBClusterSnapshotIdentifier"] == restore["params"]["SnapshotIdentifier"]
    assert report["output"]["region"] == "us-west-2"
    assert {i["availability_zone"][:-1] for i in report["output"]["instances"]} == {"us-west-2"}
    assert cluster(report, "orders-restored", "us-west-2")["status"] == "available"
    assert {s["region"] for s in report["world"]["snapshots"]} == {"us-east-1"}  # the temporary copy is gone
    assert source_untouched(report)


def test_encrypted_cross_region_needs_a_target_key(world, request_):
    world["snapshots"][0].update(encrypted=True)
    request_["target"]["region"] = "us-west-2"
    report = run(world, request_)
    assert (report["error"], "kms_key_id" in report["cause"]) == ("InvalidInput", True)
    assert mutating_calls(report) == []


def test_terminal_restore_status_fails_at_once_and_cleans_up(world, request_):
    world["faults"] = {"restore_ends_in": [{"cluster": "orders-restored", "status": "incompatible-restore"}]}
    world["timing"]["polls_until_available"] = 2
    report = run(world, request_)
    assert (report["status"], report["error"]) == ("FAILED", "RestoreFailed")
    assert report["states"].count("CheckCluster") == 3  # 2 polls creating, the third sees the failure
    assert "incompatible-restore" in json.loads(report["cause"])["message"]
    assert [c["params"]["DBClusterIdentifier"] for c in calls(report, "DeleteDBCluster")] == ["orders-restored"]
    assert cluster(report, "orders-restored") is None
    assert report["world"]["operations"][0]["status"] == "failed"


def test_instances_fall_back_across_azs_and_policy_classes(world, request_):
    world["policies"] = {"orders-restored": {"instance_classes": ["db.r6g.large", "db.r6g.xlarge"]}}
    world["faults"] = {"insufficient_capacity": [{"class": "db.r6g.large", "az": "us-east-1a"},
                                                 {"class": "db.r6g.large", "az": "us-east-1b"}],
                       "capacity_lost": [{"class": "db.r6g.large", "az": "us-east-1c"}]}
    request_["target"]["instances"] = [{"instance_class": "db.r6g.large", "availability_zone": "us-east-1a"}]
    report = run(world, request_)
    assert report["status"] == "SUCCEEDED", report["cause"]
    tried = [(c["params"]["DBInstanceClass"], c["params"]["AvailabilityZone"], c["error"])
             for c in calls(report, "CreateDBInstance")]
    assert tried == [("db.r6g.large", "us-east-1a", "InsufficientDBInstanceCapacity"),
                     ("db.r6g.large", "us-east-1b", "InsufficientDBInstanceCapacity"),
                     ("db.r6g.large", "us-east-1c", None),  # created, then lost to capacity
                     ("db.r6g.xlarge", "us-east-1a", None)]
    (writer,) = report["output"]["instances"]
    assert (writer["instance_class"], writer["role"]) == ("db.r6g.xlarge", "writer")
    assert len(calls(report, "DeleteDBInstance")) == 1


def test_no_capacity_for_an_instance_fails_and_deletes_what_was_created(world, request_):
    world["faults"] = {"insufficient_capacity": [{"class": "db.r6g.large", "az": "*"}]}
    report = run(world, request_)
    assert (report["status"], report["error"]) == ("FAILED", "NoCapacityAvailable")
    cause = json.loads(report["cause"])
    assert cause["deleted"] == ["orders-restored"]
    assert cluster(report, "orders-restored") is None
    assert source_untouched(report)


def test_delete_on_failure_removes_instances_then_cluster_and_nothing_else(world, request_):
    world["clusters"].append({"id": "bystander", "engine": "aurora-postgresql",
                              "instances": [{"id": "bystander-1", "class": "db.r6g.large", "writer": True,
                                             "tags": {CREATED_BY_TAG: "another-execution"}}]})
    world["faults"] = {"insufficient_capacity": [{"class": "db.r6g.xlarge", "az": "*"}]}
    request_["target"]["instances"] = [{"instance_class": "db.r6g.large"}, {"instance_class": "db.r6g.xlarge"}]
    report = run(world, request_)
    assert (report["status"], report["error"]) == ("FAILED", "NoCapacityAvailable")  # the reader found no capacity
    deletes = [(c["operation"], c["params"].get("DBInstanceIdentifier") or c["params"].get("DBClusterIdentifier"))
               for c in mutating_calls(report) if c["operation"].startswith("Delete")]
    assert deletes == [("DeleteDBInstance", "orders-restored-1"), ("DeleteDBCluster", "orders-restored")]
    assert cluster(report, "bystander")["status"] == "available"
    assert source_untouched(report)


def test_without_delete_on_failure_everything_stays_for_inspection(world, request_):
    request_["options"]["delete_on_failure"] = False
    world["faults"] = {"insufficient_capacity": [{"class": "db.r6g.large", "az": "*"}]}
    report = run(world, request_)
    assert report["error"] == "NoCapacityAvailable"
    assert [c for c in mutating_calls(report) if c["operation"].startswith("Delete")] == []
    assert cluster(report, "orders-restored")["status"] == "available"


def test_master_password_is_handed_to_secrets_manager_only_when_asked(world, request_):
    (modify,) = calls(run(world, request_), "ModifyDBCluster")
    assert modify["params"]["ManageMasterUserPassword"] is True
    assert modify["params"]["DBClusterIdentifier"] == "orders-restored"
    request_["options"]["manage_master_password"] = False
    assert calls(run(world, request_), "ModifyDBCluster") == []


def test_dry_run_resolves_and_plans_but_changes_nothing(world, request_):
    request_["options"]["dry_run"] = True
    report = run(world, request_)
    assert report["status"] == "SUCCEEDED"
    assert report["output"]["dry_run"] is True and report["output"]["snapshot_id"] == "orders-manual-new"
    assert [i["instance_id"] for i in report["output"]["instances"]] == ["orders-restored-1", "orders-restored-2"]
    assert mutating_calls(report) == []
    assert cluster(report, "orders-restored") is None


@pytest.mark.parametrize("mutate,field", [
    (lambda r: r["target"].update(instances=[]), "input.target.instances"),
    (lambda r: r["options"].update(dry_run="no"), "input.options.dry_run"),
    (lambda r: r["source"].update(restore_time="yesterday"), "input.source.restore_time"),
    (lambda r: r["source"].update(snapshot="orders-manual-old", restore_time="2026-11-23T00:00:00Z"), "input.source"),
    (lambda r: r.pop("target"), "input"),
])
def test_invalid_input_names_the_field_and_changes_nothing(world, request_, mutate, field):
    mutate(request_)
    report = run(world, request_)
    assert (report["status"], report["error"]) == ("FAILED", "InvalidInput")
    assert report["cause"].startswith(field)
    assert mutating_calls(report) == []


def test_operation_record_has_steps_and_audit(world, request_):
    report = run(world, request_)
    (operation,) = report["world"]["operations"]
    assert operation["status"] == "succeeded"
    assert {"prepared", "restore_started", "cluster_available", "password_managed", "instances_available",
            "finished"} <= set(operation["steps"])
    updates = calls(report, "UpdateItem")
    assert all("expires_at" in c["params"]["UpdateExpression"] for c in updates)
    assert OPERATION_TAG in cluster(report, "orders-restored")["tags"]


def test_the_same_request_written_differently_resumes_and_the_earlier_copy_is_removed(world, request_):
    world["snapshots"][0].update(encrypted=True, kms_key="alias/orders")
    world["kms_keys"].append({"alias": "alias/orders"})
    minimal = {"source": {"cluster_id": "orders"},
               "target": {"cluster_id": "orders-restored", "region": "us-west-2", "kms_key_id": "alias/orders-west",
                          "instances": [{"instance_class": "db.r6g.large", "count": 2}]},
               "options": {"delete_on_failure": False}}
    spelled_out = copy.deepcopy(request_)
    spelled_out["target"].update(region="us-west-2", kms_key_id="alias/orders-west", tags={})
    spelled_out["options"]["delete_on_failure"] = False
    world["faults"] = {"api_errors": [{"operation": "CreateDBInstance", "code": "InvalidParameterCombination"}]}
    with Simulation(world) as simulation:
        first = simulation.run("snapshot-restore", minimal)
        second = simulation.run("snapshot-restore", spelled_out)
    assert first["error"] == "InvalidParameterCombination"
    assert second["status"] == "SUCCEEDED", second["cause"]
    assert second["output"]["resumed"] is True
    assert calls(second, "CopyDBClusterSnapshot") == [] and calls(second, "RestoreDBClusterFromSnapshot") == []
    assert len(calls(second, "DeleteDBClusterSnapshot")) == 1  # the first run's temporary copy
    assert {s["region"] for s in second["world"]["snapshots"]} == {"us-east-1"}


def test_a_snapshot_arn_sets_the_source_region_and_so_the_default_target_region(world, request_):
    world["snapshots"][0]["region"] = "us-west-2"
    world["clusters"][0]["region"] = "us-west-2"
    world["clusters"][0]["availability_zones"] = ["us-west-2a", "us-west-2b"]
    world["clusters"][0]["instances"][0]["az"] = "us-west-2a"
    request_["source"] = {"cluster_id": "orders",
                          "snapshot": "arn:aws:rds:us-west-2:123456789012:cluster-snapshot:orders-manual-new"}
    del request_["target"]["region"]
    report = run(world, request_)
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert report["output"]["region"] == "us-west-2"
    assert calls(report, "CopyDBClusterSnapshot") == []


# IAM lets the stack tag (and so later delete) only RestoreTargetPattern's names ------------------
def test_a_target_name_the_stack_may_not_create_is_invalid_input_before_anything_changes(world, request_):
    world["parameters"] = {"RestoreTargetPattern": "*-restored*"}  # the template's default
    request_["target"]["cluster_id"] = "billing-copy"
    report = run(world, request_)
    assert (report["status"], report["error"]) == ("FAILED", "InvalidInput")
    assert "billing-copy" in report["cause"] and "RestoreTargetPattern" in report["cause"]
    assert mutating_calls(report) == []


def test_names_outside_the_pattern_include_instance_names_cut_from_a_long_target():
    from aurora_ops.workflows.snapshot_restore.decisions import instance_slots, names_outside_pattern

    slots = instance_slots("orders-restored", [{"instance_class": "db.r6g.large", "count": 2}])
    assert names_outside_pattern("*-restored*", "orders-restored", slots) == []
    assert names_outside_pattern("*-restored*", "Orders-Restored", slots) == []  # RDS lowercases identifiers
    assert names_outside_pattern("restored-*", "orders-restored", slots)[0] == "orders-restored"
    long_target = "a" * 50 + "-restored"  # instance names are cut to 47 characters plus a digest
    long_slots = instance_slots(long_target, [{"instance_class": "db.r6g.large", "count": 1}])
    assert names_outside_pattern("*-restored*", long_target, long_slots)  # the cut names lose "-restored"
