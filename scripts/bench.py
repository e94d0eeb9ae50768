"""Print the budgets: scale-up happy path and cold starts, scale-down monthly cost,
snapshot-restore transitions, chaos, the fleet's (scripts/bench_fleet.py), failover's
(scripts/bench_failover.py), dr-readiness's (scripts/bench_dr_readiness.py), test-suite time.

    .venv/bin/python scripts/bench.py [--skip-suite]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from aurora_ops_sim import simulate  # noqa: E402
from aurora_ops_sim.template import Template  # noqa: E402
from conftest import BASE_WORLD  # noqa: E402

import bench_dr_readiness  # noqa: E402  (scripts/, beside this file)
import bench_failover  # noqa: E402
import bench_fleet  # noqa: E402

HAPPY = {"cluster_id": "orders", "reason": "bench"}
BARE = "import boto3; boto3.client('rds')"


def happy_path(polls_until_available: int) -> dict:
    world = copy.deepcopy(BASE_WORLD)  # two classes, three AZs
    world["timing"]["polls_until_available"] = polls_until_available
    report = simulate("scale-up", world, HAPPY, echo_handler_output=False)
    assert report["output"]["action"] == "created", report
    creates = [i for i, c in enumerate(report["aws_calls"]) if c["operation"] == "CreateDBInstance"]
    report["calls_before_create"] = creates[0]
    return report


CLIENT_SERVICES = {"rds", "dynamodb", "sns", "cloudwatch", "dsql"}  # the boto3 clients the handlers create


def _services(function: dict) -> set[str]:
    """The clients a function's handler creates: the services of its IAM actions
    (tests/template/test_template_security.py keeps those equal to the handler's calls)."""
    services = set()
    for policy in function["Properties"].get("Policies") or []:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            actions = statement.get("Action", [])
            for action in actions if isinstance(actions, list) else [actions]:
                services.add(action.split(":")[0])
    return services & CLIENT_SERVICES


def cold_start(runs: int) -> list[tuple[str, float, float, float]]:
    """Median wall time of a fresh process importing a handler and creating its
    clients, next to a bare boto3 + RDS client process, interleaved so both see
    the same machine."""
    template = Template(ROOT)
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(ROOT / "functions"),
           "POWERTOOLS_TRACE_DISABLED": "true"}
    rows = []
    for logical_id, function in sorted(template.functions.items()):
        module, _ = function.handler.rsplit(".", 1)
        clients = "".join(f"; aws.client({s!r})" for s in sorted(_services(template.resources[logical_id])))
        code = f"import {module}; from aurora_ops.aws import clients as aws{clients}"
        handler, bare = [], []
        for _ in range(runs):
            for sample, snippet in ((handler, code), (bare, BARE)):
                started = time.perf_counter()
                subprocess.run([sys.executable, "-c", snippet], env=env, check=True)
                sample.append(time.perf_counter() - started)
        rows.append((logical_id, statistics.median(handler), statistics.median(bare),
                     statistics.median(handler) / statistics.median(bare)))
    return rows


# us-east-1 list prices (free tiers ignored), as of 2026-11.
PRICES = {
    "express_request": 1.00 / 1e6,  # Step Functions Express, per execution
    "express_gb_second": 0.00001667,  # billed per 100 ms, in 64 MB memory chunks
    "standard_transition": 0.025 / 1000,
    "lambda_request": 0.20 / 1e6,
    "lambda_arm64_gb_second": 0.0000133334,
    "metrics_requested": 0.01 / 1000,  # GetMetricData, per metric requested
    "getmetricstatistics_request": 0.01 / 1000,
    "dynamodb_write": 0.625 / 1e6,  # on-demand, per write request unit
    "dynamodb_read": 0.125 / 1e6,  # per read request unit (strongly consistent: 1 per 4 KB)
    "scheduler_invocation": 1.00 / 1e6,
}
LAMBDA_SECONDS = 0.3  # assumed billed duration of one warm step (one to four API calls)
LAMBDA_GB = 0.25  # MemorySize 256 in template.yaml
SCALE_DOWN_WORLD = {
    "now": "2026-11-24T12:00:00Z",
    "policies": {"orders": {}},
    "clusters": [{"id": "orders", "engine": "aurora-postgresql", "instances": [
        {"id": "orders-1", "class": "db.r6g.large", "az": "us-east-1a", "writer": True, "cpu": 50},
        {"id": "orders-2", "class": "db.r6g.large", "az": "us-east-1b", "cpu": 40},
        {"id": "orders-3", "class": "db.r6g.large", "az": "us-east-1c", "cpu": 40},
        {"id": "orders-aops-0000aaaa-1", "class": "db.r6g.large", "az": "us-east-1b", "cpu": 40,
         "created": "2026-11-24T08:00:00Z", "tags": {"aurora-ops:created-by": "bench"}},
    ]}],
}


def runs_per_month() -> float:
    expression = Template(ROOT).parameter_default("ScaleDownSchedule")
    number, unit = expression.removeprefix("rate(").removesuffix(")").split()
    minutes = int(number) * {"minute": 1, "minutes": 1, "hour": 60, "hours": 60}[unit]
    return 30 * 24 * 60 / minutes


def scale_down_cost() -> int:
    """Monthly cost of watching one managed cluster with 3 readers at the default
    schedule, in the steady state (load not low, so every run reads the metrics)."""
    report = simulate("scale-down", SCALE_DOWN_WORLD, {}, echo_handler_output=False)
    assert report["output"]["decisions"][0]["reason"] == "load-not-low", report["output"]
    calls = report["aws_calls"]
    metrics = sum(len(c["params"]["MetricDataQueries"]) for c in calls if c["operation"] == "GetMetricData")
    writes = sum(1 for c in calls if c["operation"] in ("PutItem", "DeleteItem", "UpdateItem"))
    reads = sum(1 for c in calls if c["operation"] == "GetItem")
    lambdas = report["lambda_invocations"]
    runs = runs_per_month()
    express_seconds = -(-lambdas * LAMBDA_SECONDS * 10 // 1) / 10  # 100 ms units
    per_run = {
        "Step Functions Express requests": PRICES["express_request"],
        "Step Functions Express duration (64 MB)": express_seconds * 0.0625 * PRICES["express_gb_second"],
        "Lambda requests": lambdas * PRICES["lambda_request"],
        "Lambda GB-s (arm64, 256 MB)": lambdas * LAMBDA_SECONDS * LAMBDA_GB * PRICES["lambda_arm64_gb_second"],
        "CloudWatch metrics requested": metrics * PRICES["metrics_requested"],
        "DynamoDB writes": writes * PRICES["dynamodb_write"],
        "DynamoDB reads": reads * PRICES["dynamodb_read"],
        "EventBridge Scheduler invocations": PRICES["scheduler_invocation"],
    }
    total = sum(per_run.values()) * runs
    print(f"\nscale-down: monthly cost of watching one managed cluster with 3 readers, schedule "
          f"{Template(ROOT).parameter_default('ScaleDownSchedule')} ({runs:.0f} runs a month)")
    print(f"  per run (measured in the simulator): {lambdas} Lambda invocations, {metrics} metrics requested, "
          f"{writes} DynamoDB writes, {reads} reads, {report['transitions']} state transitions")
    print(f"  assumptions: {LAMBDA_SECONDS * 1000:.0f} ms billed per Lambda step; Express bills the sum of its steps")
    for item, dollars in per_run.items():
        print(f"    {item:42s} ${dollars * runs:8.4f}")
    print(f"  total                                        ${total:8.4f} per cluster-month   (budget <= $0.50)")
    standard = report["transitions"] * PRICES["standard_transition"] * runs
    print(f"  (the same runs as a Standard workflow would add ${standard:.4f} in transitions alone)")
    # The public sample's design: a Lambda every minute reading each reader's CPU.
    sample_runs = 30 * 24 * 60
    readers = 3
    sample = sample_runs * (PRICES["lambda_request"] + LAMBDA_SECONDS * LAMBDA_GB * PRICES["lambda_arm64_gb_second"]
                            + readers * PRICES["getmetricstatistics_request"])
    print(f"  public sample's design (Lambda every minute, GetMetricStatistics per reader, same prices): "
          f"${sample:.4f} per cluster-month")
    print("  prices: us-east-1 list prices, free tiers ignored: " + ", ".join(f"{k}={v:.10g}" for k, v in PRICES.items()))
    return int(total <= 0.50 and total < sample)


RESTORE_WORLD = {
    "now": "2026-11-24T12:00:00Z",
    "clusters": [{"id": "orders", "engine": "aurora-postgresql", "instances": [
        {"id": "orders-1", "class": "db.r6g.large", "az": "us-east-1a", "writer": True}]}],
    "snapshots": [{"id": "orders-snap", "cluster": "orders", "created": "2026-11-24T03:00:00Z"}],
}
RESTORE_INPUT = {
    "source": {"cluster_id": "orders", "snapshot": "latest"},
    "target": {"cluster_id": "orders-restored", "instances": [{"instance_class": "db.r6g.large", "count": 2}]},
}


def restore_figures() -> int:
    """Same-region restore with two instances; every cluster and instance
    available at its 3rd poll (and, for comparison, its 4th)."""
    ok = True
    print("\nsnapshot-restore, same region, two instances (budget: transitions < 80)")
    for polls, label in ((2, "available at the 3rd poll"), (3, "available at the 4th poll")):
        world = copy.deepcopy(RESTORE_WORLD)
        world["timing"] = {"polls_until_available": polls}
        report = simulate("snapshot-restore", world, RESTORE_INPUT, echo_handler_output=False)
        assert report["status"] == "SUCCEEDED", report["cause"]
        print(f"  {label}: billed state transitions {report['transitions']}, "
              f"Lambda invocations {report['lambda_invocations']}")
        ok &= report["transitions"] < 80
    return int(ok)


CHAOS_EXAMPLES = (  # the faults issue's budget: 100 runs each in under 120 s wall, 0 violations
    ("scale-up", "examples/capacity-crunch.yaml", "events/manual.json"),
    ("scale-down", "examples/scale-down.yaml", "events/scale-down-all.json"),
    ("snapshot-restore", "examples/restore.yaml", "events/snapshot-restore-cross-region.json"),
    ("failover", "examples/failover-drill.yaml", "events/failover-drill.json"),
    ("restore-drill", "examples/restore-drill.yaml", "events/restore-drill-one.json"),  # one drill per run
    ("dr-readiness", "examples/dr-readiness.yaml", "events/dr-readiness.json"),
)


def chaos_figures(runs: int) -> int:
    """`aurora-ops chaos` as a user runs it (one command, its own process and workers)."""
    ok = True
    print(f"\naurora-ops chaos, {runs} runs per workflow (budget: under 120 s wall each, 0 violations)")
    for workflow, world, execution_input in CHAOS_EXAMPLES:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "aurora_ops_sim.cli", "chaos", workflow, "--world", world,
                                 "--input", execution_input, "--runs", str(runs), "--json"],
                                cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        violations = len(json.loads(result.stdout)["violations"]) if result.stdout else -1
        print(f"  {workflow:17s} {seconds:6.1f} s   {violations} violations")
        ok &= seconds < 120 and violations == 0
    return int(ok)


def happy_path_wall(samples: int = 5) -> int:
    """One happy-path simulation after start-up (target under 1 s): the median of a few."""
    simulate("scale-up", copy.deepcopy(BASE_WORLD), HAPPY, echo_handler_output=False)  # start-up: imports, caches
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        simulate("scale-up", copy.deepcopy(BASE_WORLD), HAPPY, echo_handler_output=False)
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    print(f"\none happy-path simulation after start-up: median {median:.2f} s of {samples}   (target < 1 s)")
    return int(median < 1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-suite", action="store_true", help="don't time the test suite")
    parser.add_argument("--runs", type=int, default=11, help="cold-start samples per process kind")
    parser.add_argument("--chaos-runs", type=int, default=100, help="aurora-ops chaos runs per workflow")
    args = parser.parse_args()
    ok = True

    print("scale-up happy path (first candidate succeeds; policy with 2 classes x 3 AZs)")
    for polls, label in ((2, "available at the 3rd poll"), (3, "available at the 4th poll (3 polls see 'creating')")):
        report = happy_path(polls)
        print(f"  {label}:")
        print(f"    billed state transitions   {report['transitions']:3d}   (budget <= 30)")
        print(f"    Lambda invocations         {report['lambda_invocations']:3d}   (budget <= 15)")
        print(f"    AWS calls before Create    {report['calls_before_create']:3d}   (budget <= 8)")
        ok &= report["transitions"] <= 30 and report["lambda_invocations"] <= 15 and report["calls_before_create"] <= 8
    print("    calls before Create:", ", ".join(f"{c['service']}:{c['operation']}" for c in report["aws_calls"][:report["calls_before_create"]]))

    print(f"\ncold start: median of {args.runs} fresh processes each (import handler + create its clients)")
    print(f"  {'function':38s} {'handler':>8s} {'bare':>8s} {'ratio':>6s}   (budget <= 1.15 for scale-up)")
    for logical_id, handler, bare, ratio in cold_start(args.runs):
        budgeted = logical_id.startswith("ScaleUp")  # the scale-up issue sets this budget
        print(f"  {logical_id:38s} {handler * 1000:6.0f}ms {bare * 1000:6.0f}ms {ratio:6.3f}"
              + ("" if budgeted else "   (no budget set)"))
        if budgeted:
            ok &= ratio <= 1.15

    ok &= bool(scale_down_cost())
    ok &= bool(restore_figures())
    happy_path_wall()  # a target, not a budget: reported, not failed on
    ok &= bool(chaos_figures(args.chaos_runs))
    ok &= bench_fleet.main() == 0  # the fleet issue's budgets
    ok &= bench_failover.main() == 0  # the failover issue's budgets
    ok &= bench_dr_readiness.main() == 0  # dr-readiness: <= $0.10 per cluster-month at 200 clusters

    if not args.skip_suite:
        # The README's test command: pytest (units + simulations), lint, build.
        started = time.perf_counter()
        result = subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        summary = next((line for line in result.stdout.splitlines() if " passed" in line), result.stderr[-200:])
        print(f"\ntest suite (make test): {seconds:.0f} s ({summary.strip()})   (budget < 300 s)")
        ok &= seconds < 300 and result.returncode == 0
    print("\nall budgets met" if ok else "\nBUDGET EXCEEDED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
