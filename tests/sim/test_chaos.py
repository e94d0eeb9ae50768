"""`aurora-ops chaos`: a few seeded runs of each workflow in the test command (so a
regression shows in CI), replay by seed, and checks that can fail."""

import copy
import json
import random
import subprocess
import sys

import pytest

from aurora_ops_sim.chaos import chaos, draw_faults
from aurora_ops_sim.invariants import check_invariants
from aurora_ops_sim.world import load_world

EXAMPLES = [
    ("scale-up", "examples/capacity-crunch.yaml", "events/manual.json", 0),
    ("scale-down", "examples/scale-down.yaml", "events/scale-down-all.json", 100),
    ("snapshot-restore", "examples/restore.yaml", "events/snapshot-restore-cross-region.json", 200),
    ("failover", "examples/failover-drill.yaml", "events/failover-drill.json", 300),
    ("failover", "examples/global-orders.yaml", "events/failover-failover.json", 400),
    ("dr-readiness", "examples/dr-readiness.yaml", "events/dr-readiness.json", 500),
    ("restore-drill", "examples/restore-drill.yaml", "events/restore-drill.json", 600),
]


@pytest.mark.parametrize("workflow,world,execution_input,seed", EXAMPLES)
def test_seeded_chaos_runs_find_no_violation(workflow, world, execution_input, seed):
    with open(execution_input) as f:
        # three seeded runs each: the CI's share; `make bench` runs 100 of each (docs/faults.md)
        result = chaos(workflow, load_world(world), json.load(f), runs=3, seed=seed, jobs=1)
    assert result["runs"] == 3
    assert result["violations"] == []


def test_the_same_seed_draws_the_same_faults():
    states, operations = ["Prepare", "CreateReader"], [("rds", "CreateDBInstance"), ("sns", "Publish")]
    assert draw_faults(random.Random(7), states, operations) == draw_faults(random.Random(7), states, operations)
    assert any(draw_faults(random.Random(s), states, operations) != draw_faults(random.Random(7), states, operations)
               for s in range(8))


# the checks can fail: each invariant on a report that breaks it ------------------------------------
BEFORE = {
    "clusters": [{"id": "orders", "status": "available", "tags": {}, "instances": [
        {"id": "orders-1", "status": "available", "tags": {}, "writer": True},
        {"id": "orders-2", "status": "available", "tags": {}, "writer": False}]}],
    "snapshots": [], "locks": [],
}


def _report(**changes):
    report = {"execution_name": "sim-1", "status": "SUCCEEDED", "output": {"action": "none"}, "cause": None,
              "aws_calls": [], "world": copy.deepcopy(BEFORE)}
    report.update(changes)
    return report


def _instance(instance_id, status="available", owner="sim-1"):
    return {"id": instance_id, "status": status, "tags": {"aurora-ops:created-by": owner}, "writer": False}


def test_an_unreported_reader_of_the_run_is_orphaned():
    report = _report()
    report["world"]["clusters"][0]["instances"].append(_instance("orders-aops-1"))
    assert [i for i, _ in check_invariants("scale-up", {}, BEFORE, report)] == ["nothing-orphaned"]


def test_a_delete_of_a_foreign_reader_is_caught():
    report = _report(aws_calls=[{"service": "rds", "operation": "DeleteDBInstance", "error": None,
                                 "params": {"DBInstanceIdentifier": "orders-2"}}])
    assert "nothing-foreign-touched" in [i for i, _ in check_invariants("scale-down", {}, BEFORE, report)]


def test_a_lock_left_behind_is_caught():
    report = _report()
    report["world"]["locks"] = [{"cluster": "orders", "owner": "sim-1"}]
    assert [i for i, _ in check_invariants("scale-up", {}, BEFORE, report)] == ["locks-released"]


def test_an_output_that_lies_is_caught():
    report = _report(output={"action": "created", "instance_id": "orders-aops-1"})
    report["world"]["clusters"][0]["instances"].append(_instance("orders-aops-1", status="creating"))
    assert "output-truthful" in [i for i, _ in check_invariants("scale-up", {}, BEFORE, report)]


def test_two_readers_added_is_unbounded_action():
    report = _report(output={"action": "created", "instance_id": "orders-aops-1"},
                     duplicate={"execution_name": "sim-2", "status": "SUCCEEDED", "aws_calls": [],
                                "output": {"action": "created", "instance_id": "orders-aops-2"}})
    report["world"]["clusters"][0]["instances"] += [_instance("orders-aops-1"), _instance("orders-aops-2", owner="sim-2")]
    assert [i for i, _ in check_invariants("scale-up", {}, BEFORE, report)] == ["bounded-action"]


def test_a_standard_workflow_that_times_out_does_not_end():
    assert [i for i, _ in check_invariants("scale-up", {}, BEFORE, _report(status="TIMED_OUT"))] == ["it-ends"]
    assert check_invariants("scale-down", {}, BEFORE, _report(status="TIMED_OUT", output=None)) == []


def test_the_command_reports_runs_and_exits_0_without_violations():
    run = subprocess.run([sys.executable, "-m", "aurora_ops_sim.cli", "chaos", "scale-up",
                          "--world", "examples/happy-path.yaml", "--input", "events/manual.json",
                          "--runs", "1", "--seed", "5", "--jobs", "1", "--json"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"runs": 1, "violations": []}
    bad = subprocess.run([sys.executable, "-m", "aurora_ops_sim.cli", "chaos", "scale-up", "--world",
                          "examples/happy-path.yaml", "--input", "events/manual.json", "--runs", "-1"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
