"""The dr-readiness budgets (make bench prints them after the others): the monthly cost
per covered cluster at the default schedule for fleets of 1, 20 and 200 clusters, from a
simulated steady-state run of each (every resource checked, nothing changed), the run
time of a 200-cluster run, and the largest state it passes between its steps.

    .venv/bin/python scripts/bench_dr_readiness.py
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from aurora_ops.aws import records  # noqa: E402
from aurora_ops.core import clock  # noqa: E402
from aurora_ops.workflows.dr_readiness import steps  # noqa: E402
from aurora_ops_sim import Simulation  # noqa: E402
from aurora_ops_sim.template import Template  # noqa: E402
from aurora_ops_sim.world.build import STATE_TABLE  # noqa: E402

import bench_fleet  # noqa: E402  (scripts/, beside this file)

# bench_fleet's us-east-1 list prices (Express, Lambda arm64, GetMetricData, DynamoDB
# on-demand, Scheduler), and those this workflow adds, checked 2026-11-26 on the AWS price
# pages (free tiers ignored): SNS $0.50 per million publishes, CloudWatch $0.30 per custom
# metric-month (first 10,000), $0.10 per standard alarm-month, Logs $0.50 per GB ingested.
PRICES = {**bench_fleet.PRICES, "sns_publish": 0.50 / 1e6, "custom_metric_month": 0.30, "alarm_month": 0.10,
          "logs_gb": 0.50}
CUSTOM_METRICS = 3  # ResourcesNotReady, ResourcesReady, ReadinessChanges (WorkflowFailures only on a failure)
ALARMS = 5  # the state machine's three, one per function
LOG_BYTES_PER_RUN = 2048  # the EMF record and a log line of each step (INFO)
EXPRESS_GB = 0.0625  # 64 MB, the smallest unit Express bills
BUDGET_AT_200 = 0.10  # dollars per cluster-month
STATE_LIMIT = 256 * 1024  # Step Functions' largest state payload


def fleet(n: int) -> dict:
    """`n` tag-selected clusters like a production fleet: a writer and two readers in two
    more AZs, four days of automated snapshots, restore drills enabled (each has passed one),
    every fourth the primary of a global database with a secondary in us-west-2; and two
    DSQL multi-Region clusters."""
    world = {"now": "2026-11-24T12:00:00Z", "clusters": [], "snapshots": [], "global_clusters": [],
             "policies": {"policies": {"standard": {"restore_drill": {"enabled": True}}}, "clusters": {},
                          "dsql_clusters": [{"id": "abc123"}, {"id": "ghi789"}]},
             "dsql_clusters": [{"id": a, "witness_region": "us-west-2", "peers": [b]} for a, b in
                               (("abc123", "def456"), ("ghi789", "jkl012"))] +
                              [{"id": b, "region": "us-east-2", "witness_region": "us-west-2", "peers": [a]}
                               for a, b in (("abc123", "def456"), ("ghi789", "jkl012"))]}
    for index in range(n):
        name = f"fleet-{index:03d}"
        world["clusters"].append({
            "id": name, "engine": "aurora-postgresql", "tags": {"aurora-ops:policy": "standard"},
            "instances": [{"id": f"{name}-{k + 1}", "class": "db.r6g.large", "az": f"us-east-1{'abc'[k]}",
                           "writer": k == 0} for k in range(3)]})
        world["snapshots"] += [{"id": f"{name}-auto-{day}", "cluster": name, "type": "automated",
                                "created": f"2026-11-{24 - day:02d}T03:00:00Z"} for day in range(4)]
        if index % 4 == 0:
            west = f"{name}-west"
            world["clusters"].append({"id": west, "region": "us-west-2", "engine": "aurora-postgresql",
                                      "rpo_lag_ms": 500, "instances": [
                                          {"id": f"{west}-{k}", "class": "db.r6g.large", "az": f"us-west-2{z}"}
                                          for k, z in ((1, "a"), (2, "b"))]})
            world["global_clusters"].append({"id": f"{name}-global", "members": [name, west]})
    return world


def _drills(simulation: Simulation, n: int) -> None:
    """Each cluster passed a restore drill two days ago (as restore-drill records it)."""
    saved = clock.now_fn
    os.environ["STATE_TABLE_NAME"] = STATE_TABLE
    clock.now_fn = lambda: simulation.now.replace(day=simulation.now.day - 2)
    try:
        for index in range(n):
            records.record_drill(f"fleet-{index:03d}", "bench-drill", True, {})
    finally:
        clock.now_fn = saved
        os.environ.pop("STATE_TABLE_NAME", None)


def steady_run(n: int) -> tuple[dict, int, float]:
    """A second run over the fleet (the first records every resource): the steady state.
    Returns the report, the size of the state Assess hands Record (bytes), the wall time."""
    sizes = []
    original = steps.record

    def measured(state, execution_name):
        sizes.append(len(json.dumps(state)))
        return original(state, execution_name)

    steps.record = measured
    try:
        with Simulation(fleet(n), echo_handler_output=False) as simulation:
            _drills(simulation, n)
            simulation.run("dr-readiness", {"trigger": "schedule"})
            started = time.perf_counter()
            report = simulation.run("dr-readiness", {"trigger": "schedule"})
            wall = time.perf_counter() - started
    finally:
        steps.record = original
    assert report["status"] == "SUCCEEDED", report["cause"]
    assert report["output"]["counts"]["not_ready"] == 0, report["output"]["counts"]
    return report, max(sizes), wall


def _item_units(call: dict) -> int:
    """Write units of one UpdateItem: the item's size (names and values) in KB, rounded up."""
    params = call["params"]
    size = len(json.dumps(params["ExpressionAttributeValues"])) + len(json.dumps(params["ExpressionAttributeNames"]))
    return math.ceil(size / 1024)


def run_cost(report: dict) -> dict[str, float]:
    """Dollars of one run, by item, from what the simulator recorded."""
    calls = report["aws_calls"]
    invocations = report["lambda_invocations"]
    lambda_seconds = invocations * bench_fleet.STEP_SECONDS + len(calls) * bench_fleet.CALL_SECONDS
    express_seconds = math.ceil(lambda_seconds * 10) / 10  # billed in 100 ms units
    metrics = sum(len(c["params"]["MetricDataQueries"]) for c in calls if c["operation"] == "GetMetricData")
    reads = sum(len(c["params"]["RequestItems"][t]["Keys"]) for c in calls if c["operation"] == "BatchGetItem"
                for t in c["params"]["RequestItems"])
    writes = sum(_item_units(c) for c in calls if c["operation"] == "UpdateItem")
    publishes = sum(1 for c in calls if c["operation"] == "Publish")
    return {
        "Step Functions Express requests": PRICES["express_request"],
        "Step Functions Express duration (64 MB)": express_seconds * EXPRESS_GB * PRICES["express_gb_second"],
        "Lambda requests": invocations * PRICES["lambda_request"],
        "Lambda GB-s (arm64, 256 MB)": lambda_seconds * bench_fleet.LAMBDA_GB * PRICES["lambda_arm64_gb_second"],
        "CloudWatch GetMetricData (metrics requested)": metrics * PRICES["metrics_requested"],
        "DynamoDB reads (consistent, 1 unit each)": reads * PRICES["dynamodb_read"],
        "DynamoDB writes (units of 1 KB)": writes * PRICES["dynamodb_write"],
        "SNS publishes (changes only)": publishes * PRICES["sns_publish"],
        "EventBridge Scheduler invocations": PRICES["scheduler_invocation"],
        "CloudWatch Logs ingested": LOG_BYTES_PER_RUN / 1024 ** 3 * PRICES["logs_gb"],
    }


def runs_per_month() -> float:
    expression = Template(ROOT).parameter_default("ReadinessSchedule")
    number, unit = expression.removeprefix("rate(").removesuffix(")").split()
    return 30 * 24 * 60 / (int(number) * {"minute": 1, "minutes": 1, "hour": 60, "hours": 60}[unit])


def main() -> int:
    runs = runs_per_month()
    fixed = {"CloudWatch custom metrics (3, no per-cluster dimension)": CUSTOM_METRICS * PRICES["custom_metric_month"],
             "CloudWatch alarms (5)": ALARMS * PRICES["alarm_month"]}
    schedule = Template(ROOT).parameter_default("ReadinessSchedule")
    print(f"\ndr-readiness monthly cost per covered cluster, schedule {schedule} ({runs:.0f} runs a month), each from "
          "a simulated steady-state run over N clusters (3 instances, 4 snapshots, drills enabled; every 4th with a "
          "global secondary; 2 DSQL clusters)")
    print(f"  billed Lambda time modelled as {bench_fleet.STEP_SECONDS * 1000:.0f} ms per step + "
          f"{bench_fleet.CALL_SECONDS * 1000:.0f} ms per AWS call; fixed monthly: "
          + ", ".join(f"{k} ${v:.2f}" for k, v in fixed.items()))
    print("  prices: " + ", ".join(f"{k}={v:.10g}" for k, v in PRICES.items()))
    figures, biggest = {}, None
    for n in (1, 20, 200):
        report, state_bytes, wall = steady_run(n)
        per_run = run_cost(report)
        monthly = {k: v * runs for k, v in per_run.items()} | fixed
        figures[n] = sum(monthly.values()) / n
        usage = sum(per_run.values()) * runs / n  # without the fixed part, as the other benchmarks count
        if n == 200:
            biggest = (report, state_bytes, wall, monthly)
        print(f"  N={n:3d}: ${figures[n]:.4f} per cluster-month in all (${sum(monthly.values()):.2f} a month), "
              f"${usage:.4f} without the fixed part; {len(report['output']['resources'])} resources, "
              f"{len(report['aws_calls'])} AWS calls, {report['lambda_invocations']} Lambda invocations, "
              f"{report['transitions']} transitions a run")
    report, state_bytes, wall, monthly = biggest
    print("  at N=200, a month:")
    for item, dollars in monthly.items():
        print(f"    {item:48s} ${dollars:8.4f}")
    output_bytes = len(json.dumps(report["output"]))
    ok = (figures[200] <= BUDGET_AT_200 and max(state_bytes, output_bytes) < STATE_LIMIT
          and report["simulated_seconds"] < 300)
    print(f"  N=200 per cluster-month, all in: ${figures[200]:.4f}   (budget <= ${BUDGET_AT_200:.2f})")
    print(f"  a 200-cluster run: {report['simulated_seconds']:.1f} s simulated (each AWS call charged "
          f"{60} ms, each Lambda invocation 300 ms; Express allows 300 s), {wall:.1f} s of wall time in the "
          f"simulator; the state Assess hands Record {state_bytes / 1024:.1f} KB (packed), the output "
          f"{output_bytes / 1024:.0f} KB "
          f"({output_bytes / len(report['output']['resources']):.0f} bytes a resource; limit 256 KB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
