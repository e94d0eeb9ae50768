"""Helpers of the dr-readiness simulations: the example world, a passed restore drill
in the state table, the table's readiness items, what a report told."""

import copy
import os
from datetime import timedelta
from pathlib import Path

import boto3
import yaml

from aurora_ops.aws import records
from aurora_ops.core import clock
from aurora_ops_sim.world.build import STATE_TABLE

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((ROOT / "examples" / "dr-readiness.yaml").read_text())


def example():
    """examples/dr-readiness.yaml, a fresh copy to adjust."""
    return copy.deepcopy(EXAMPLE)


def cluster_of(world, cluster_id):
    return next(c for c in world["clusters"] if c["id"] == cluster_id)


def dsql_of(world, dsql_id):
    return next(d for d in world["dsql_clusters"] if d["id"] == dsql_id)


def passed_drill(simulation, cluster_id, days_ago):
    """A restore drill of `cluster_id` that passed `days_ago` days before the simulated now,
    recorded as the restore-drill workflow records it (aurora_ops.aws.records)."""
    saved_clock, saved_table = clock.now_fn, os.environ.get("STATE_TABLE_NAME")
    os.environ["STATE_TABLE_NAME"] = STATE_TABLE
    clock.now_fn = lambda: simulation.now - timedelta(days=days_ago)
    try:
        records.record_drill(cluster_id, f"sim-restore-drill-{days_ago}", True, {"snapshot": "s"})
    finally:
        clock.now_fn = saved_clock
        if saved_table is None:
            os.environ.pop("STATE_TABLE_NAME", None)
        else:
            os.environ["STATE_TABLE_NAME"] = saved_table


def table_item(simulation, kind, resource_id):
    """The readiness item of a resource, as the state table holds it (plain values)."""
    item = boto3.client("dynamodb", region_name=simulation.region).get_item(
        TableName=STATE_TABLE, Key={"pk": {"S": f"readiness#{kind}#{resource_id}"}}, ConsistentRead=True).get("Item")
    if item is None:
        return None
    return {"ready": item["ready"]["BOOL"], "notified_ready": item.get("notified_ready", {}).get("BOOL"),
            "since": item["since"]["S"], "checked_at": item["checked_at"]["S"],
            "failed": [f["S"] for f in item["failed"]["L"]],
            "checks": {name: {"state": c["M"]["state"]["S"], "detail": c["M"]["detail"]["S"]}
                       for name, c in item["checks"]["M"].items()}}


def resources(report):
    return {(r["kind"], r["id"]): r for r in report["output"]["resources"]}


def told(report):
    """The changes the run's notification told: {(kind, id): ready}."""
    return {(c["kind"], c["id"]): c["ready"] for n in report["notifications"] for c in n["message"]["changes"]}
