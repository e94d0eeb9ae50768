"""Bad input fails the same way in every workflow: the execution fails with
`InvalidInput`, its cause is one line naming the field, never a stack trace, and
nothing is changed."""

import copy
import json

import pytest
import yaml

from aurora_ops_sim import simulate
from conftest import mutating_calls

WORLDS = {"scale-up": "examples/happy-path.yaml", "scale-down": "examples/scale-down.yaml",
          "snapshot-restore": "examples/restore.yaml", "failover": "examples/global-orders.yaml",
          "dr-readiness": "examples/dr-readiness.yaml"}
RESTORE = json.load(open("events/snapshot-restore.json"))
CASES = [
    ("scale-up", {"cluster_id": "orders", "dry_run": "yes"}, "input.dry_run"),
    ("scale-up", {"cluster_id": "orders", "colour": "red"}, "input"),
    ("scale-up", [1, 2], "input"),
    ("scale-down", {"dry_run": "x"}, "input.dry_run"),
    ("scale-down", {"cluster_id": 7}, "input.cluster_id"),
    ("scale-down", "all", "input"),
    ("snapshot-restore", {"source": {"cluster_id": "orders"}}, "input"),
    ("snapshot-restore", {**RESTORE, "options": {"dry_run": "no"}}, "input.options.dry_run"),
    ("snapshot-restore", {**RESTORE, "target": {**RESTORE["target"], "instances": []}}, "input.target.instances"),
    ("failover", {"operation": "failover", "global_cluster_id": "orders-global"}, "input"),
    ("failover", {"operation": "switchover", "global_cluster_id": "orders-global", "target_cluster_id": "orders-west",
                  "failback": True}, "input.failback"),
    ("failover", {"operation": "drill", "cluster_id": "orders", "target_instance_id": 3}, "input.target_instance_id"),
    ("dr-readiness", {"cluster_id": "orders", "dry_run": 1}, "input.dry_run"),
    ("dr-readiness", {"cluster": "orders"}, "input"),
    ("dr-readiness", "all", "input"),
]


@pytest.mark.parametrize("workflow,bad_input,field", CASES, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(CASES)])
def test_bad_input_is_one_line_naming_the_field_in_every_workflow(workflow, bad_input, field):
    with open(WORLDS[workflow]) as world_file:
        world = yaml.safe_load(world_file)
    report = simulate(workflow, copy.deepcopy(world), bad_input, echo_handler_output=False)
    assert (report["status"], report["error"]) == ("FAILED", "InvalidInput"), report["cause"]
    cause = report["cause"]
    assert cause.startswith(field) and "\n" not in cause and len(cause) < 300, cause
    assert "Traceback" not in cause and "stackTrace" not in cause and not cause.startswith("{"), cause
    assert mutating_calls(report) == []
