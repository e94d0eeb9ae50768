"""Print the scale-up budgets: happy path, cold start, test-suite time.

    .venv/bin/python scripts/bench.py [--skip-suite]
"""

from __future__ import annotations

import argparse
import copy
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


def cold_start(report: dict, runs: int) -> list[tuple[str, float, float, float]]:
    """Median wall time of a fresh process importing a handler and creating its
    clients (the services its calls used in the happy path), next to a bare
    boto3 + RDS client process, interleaved so both see the same machine."""
    services: dict[str, set] = {}
    for call in report["aws_calls"]:
        services.setdefault(call["function"], set()).add(call["service"])
    template = Template(ROOT)
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(ROOT / "functions"),
           "POWERTOOLS_TRACE_DISABLED": "true"}
    rows = []
    for logical_id, function in sorted(template.functions.items()):
        module, _ = function.handler.rsplit(".", 1)
        clients = "".join(f"; aws.client({s!r})" for s in sorted(services.get(logical_id, {"rds"})))
        code = f"import {module}; from aurora_ops import aws{clients}"
        handler, bare = [], []
        for _ in range(runs):
            for sample, snippet in ((handler, code), (bare, BARE)):
                started = time.perf_counter()
                subprocess.run([sys.executable, "-c", snippet], env=env, check=True)
                sample.append(time.perf_counter() - started)
        rows.append((logical_id, statistics.median(handler), statistics.median(bare),
                     statistics.median(handler) / statistics.median(bare)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-suite", action="store_true", help="don't time the test suite")
    parser.add_argument("--runs", type=int, default=11, help="cold-start samples per process kind")
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
    print(f"  {'function':36s} {'handler':>8s} {'bare':>8s} {'ratio':>6s}   (budget <= 1.15)")
    for logical_id, handler, bare, ratio in cold_start(report, args.runs):
        print(f"  {logical_id:36s} {handler * 1000:6.0f}ms {bare * 1000:6.0f}ms {ratio:6.3f}")
        ok &= ratio <= 1.15

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
