"""The fleet budgets (make bench prints them after the others): scale-down over a
generated, tag-selected fleet of 200 clusters, the monthly cost per cluster for
N = 1, 20 and 200, and a 200-cluster policy document's size and parse time.

    .venv/bin/python scripts/bench_fleet.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from aurora_ops.core.policy import parse_document  # noqa: E402
from aurora_ops_sim import simulate  # noqa: E402
from aurora_ops_sim.template import Template  # noqa: E402

OWN = {"aurora-ops:created-by": "bench"}
# us-east-1 list prices (checked 2026-11; free tiers ignored): Step Functions Express
# ($1.00 per million requests, $0.00001667 per GB-second in 64 MB / 100 ms units),
# Lambda arm64 ($0.20 per million requests, $0.0000133334 per GB-second),
# CloudWatch GetMetricData ($0.01 per 1,000 metrics requested), DynamoDB on-demand
# ($0.125 per million read request units), EventBridge Scheduler ($1.00 per million).
PRICES = {"express_request": 1.00 / 1e6, "express_gb_second": 0.00001667, "lambda_request": 0.20 / 1e6,
          "lambda_arm64_gb_second": 0.0000133334, "metrics_requested": 0.01 / 1000,
          "dynamodb_read": 0.125 / 1e6, "dynamodb_write": 0.625 / 1e6, "scheduler_invocation": 1.00 / 1e6}
LAMBDA_GB = 0.25  # MemorySize 256
# Billed duration of one invocation, modelled: 100 ms of work plus 50 ms per AWS call it makes.
STEP_SECONDS, CALL_SECONDS = 0.1, 0.05


def fleet(n: int, own_readers: int, cpu: float, plain_reader: bool = True) -> dict:
    """`n` clusters tagged aurora-ops:policy=standard: a writer, optionally one reader
    of the user's, and `own_readers` readers this system created, two per AZ at most."""
    clusters = []
    for index in range(n):
        name = f"fleet-{index:03d}"
        instances = [{"id": f"{name}-1", "class": "db.r6g.large", "az": "us-east-1a", "writer": True, "cpu": 60}]
        if plain_reader:
            instances.append({"id": f"{name}-2", "class": "db.r6g.large", "az": "us-east-1b", "cpu": cpu})
        for k in range(own_readers):
            instances.append({"id": f"{name}-aops-0000aaaa-{k + 1}", "class": "db.r6g.large",
                              "az": ("us-east-1b", "us-east-1c")[k % 2], "cpu": cpu,
                              "created": "2026-11-24T08:00:00Z", "tags": OWN})
        clusters.append({"id": name, "engine": "aurora-postgresql", "tags": {"aurora-ops:policy": "standard"},
                         "availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"], "instances": instances})
    return {"now": "2026-11-24T12:00:00Z", "clusters": clusters,
            "policies": {"policies": {"standard": {"min_readers": 1, "scale_down": {"cpu_threshold": 20}}}}}


def calls(report: dict, service: str) -> int:
    return sum(1 for c in report["aws_calls"] if c["service"] == service)


def runs_per_month() -> float:
    expression = Template(ROOT).parameter_default("ScaleDownSchedule")
    number, unit = expression.removeprefix("rate(").removesuffix(")").split()
    return 30 * 24 * 60 / (int(number) * {"minute": 1, "minutes": 1, "hour": 60, "hours": 60}[unit])


def run_cost(report: dict) -> float:
    """Dollars for one scale-down run, from what the simulator recorded."""
    invocations = report["lambda_invocations"]
    lambda_seconds = invocations * STEP_SECONDS + len(report["aws_calls"]) * CALL_SECONDS
    express_seconds = -(-lambda_seconds * 10 // 1) / 10  # billed in 100 ms units, 64 MB
    metrics = sum(len(c["params"]["MetricDataQueries"]) for c in report["aws_calls"] if c["operation"] == "GetMetricData")
    reads = sum(len(c["params"]["RequestItems"][t]["Keys"]) for c in report["aws_calls"]
                if c["operation"] == "BatchGetItem" for t in c["params"]["RequestItems"])
    reads += sum(1 for c in report["aws_calls"] if c["operation"] == "GetItem")
    writes = sum(1 for c in report["aws_calls"] if c["operation"] in ("PutItem", "DeleteItem", "UpdateItem"))
    return (PRICES["express_request"] + PRICES["scheduler_invocation"]
            + express_seconds * 0.0625 * PRICES["express_gb_second"]
            + invocations * PRICES["lambda_request"] + lambda_seconds * LAMBDA_GB * PRICES["lambda_arm64_gb_second"]
            + metrics * PRICES["metrics_requested"] + reads * PRICES["dynamodb_read"] + writes * PRICES["dynamodb_write"])


def steady_and_removal() -> bool:
    steady = simulate("scale-down", fleet(200, 1, cpu=40), {"trigger": "schedule"}, echo_handler_output=False)
    rds, cloudwatch = calls(steady, "rds"), calls(steady, "cloudwatch")
    ok_steady = (steady["status"] == "SUCCEEDED" and rds <= 10 and cloudwatch <= 5
                 and steady["simulated_seconds"] < 60 and len(steady["output"]["decisions"]) == 200)
    print("\nscale-down over 200 tag-selected clusters (writer, a reader of the user's, one of ours; default timing)")
    print(f"  steady state (load not low anywhere): {steady['status']}, {rds} RDS calls (budget <= 10), "
          f"{cloudwatch} CloudWatch calls (budget <= 5), {steady['simulated_seconds']:.1f} s simulated "
          f"(budget < 60), {len(steady['output']['decisions'])} decisions")
    removal = simulate("scale-down", fleet(200, 1, cpu=2), {"trigger": "schedule"}, echo_handler_output=False)
    deleted = sum(1 for d in (removal["output"] or {}).get("decisions", []) if d["action"] == "deleted")
    ok_removal = (removal["status"] == "SUCCEEDED" and removal["simulated_seconds"] <= 300 and deleted == 200
                  and removal["world"]["locks"] == [])
    print(f"  every cluster removes one reader: {removal['status']}, {removal['simulated_seconds']:.1f} s simulated "
          f"(budget <= 300), {deleted} deleted of 200 decisions, {len(removal['world']['locks'])} locks left, "
          f"{calls(removal, 'rds')} RDS calls, {removal['lambda_invocations']} Lambda invocations")
    return ok_steady and ok_removal


def cost_per_cluster() -> bool:
    runs = runs_per_month()
    schedule = Template(ROOT).parameter_default("ScaleDownSchedule")
    print(f"\nscale-down monthly cost per cluster, schedule {schedule} ({runs:.0f} runs a month), each figure from a "
          "simulated run of a fleet of N such clusters")
    print(f"  billed Lambda time modelled as {STEP_SECONDS * 1000:.0f} ms per step + {CALL_SECONDS * 1000:.0f} ms per "
          "AWS call; prices: " + ", ".join(f"{k}={v:.10g}" for k, v in PRICES.items()))
    ok = True
    kinds = (("no reader to remove (no reader of ours)", dict(own_readers=0, cpu=40), 0.05),
             ("3 readers of ours, load not low", dict(own_readers=3, cpu=40, plain_reader=False), 0.15))
    for label, shape, budget in kinds:
        figures = []
        for n in (1, 20, 200):
            report = simulate("scale-down", fleet(n, **shape), {"trigger": "schedule"}, echo_handler_output=False)
            assert report["status"] == "SUCCEEDED", report["cause"]
            figures.append(run_cost(report) * runs / n)
        ok &= figures[-1] <= budget
        print(f"  {label:40s} N=1 ${figures[0]:.4f}  N=20 ${figures[1]:.4f}  N=200 ${figures[2]:.4f}"
              f"   (budget at N=200 <= ${budget:.2f})")
    return ok


def document_figures(samples: int = 21) -> None:
    """A document naming 200 clusters by id, each with an override, as the layer carries it."""
    document = {"defaults": {"scale_down": {"cpu_threshold": 15}},
                "policies": {"oltp": {"max_readers": 6, "instance_classes": ["db.r6g.xlarge", "db.r7g.xlarge"]}},
                "clusters": {f"orders-{i:03d}": {"max_readers": 3 + i % 5, "min_readers": 1,
                                                  "instance_classes": ["db.r6g.large", "db.r6g.xlarge"],
                                                  "scale_down": {"cpu_threshold": 10 + i % 20}}
                             for i in range(200)}}
    text = json.dumps(document)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        parse_document(json.loads(text))
        timings.append(time.perf_counter() - started)
    print(f"\npolicy document naming 200 clusters by id, each with an override: {len(text):,} bytes "
          f"(the PolicyDocument parameter holds 4,096; the layer holds up to Lambda's 250 MB)")
    print(f"  read + parse at cold start: median {statistics.median(timings) * 1000:.1f} ms of {samples} "
          "(no API call); monthly cost: $0 (a layer is code storage, no request is billed)")


def main() -> int:
    ok = steady_and_removal()
    ok &= cost_per_cluster()
    document_figures()
    print("\nfleet budgets met" if ok else "\nFLEET BUDGET EXCEEDED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
