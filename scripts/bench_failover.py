"""The failover budgets (make bench prints them after the others): a drill whose
writer changes after 2 polls (billed transitions, Lambda invocations, the poll
interval and what the timings resolve to), with failback, and each global operation.

    .venv/bin/python scripts/bench_failover.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from aurora_ops_sim import simulate  # noqa: E402

STANDARD_TRANSITION = 0.000025  # us-east-1 list price of a Standard state transition (checked 2026-11)
MAX_TRANSITIONS, MAX_POLL_SECONDS = 30, 5


def _world(name: str, polls: int) -> dict:
    world = yaml.safe_load((ROOT / "examples" / name).read_text())
    world["timing"] = {**world.get("timing", {}), "polls_until_failed_over": polls}
    return world


def _input(name: str) -> dict:
    return json.loads((ROOT / "events" / name).read_text())


def _figures(world: dict, execution_input: dict) -> tuple[dict, dict]:
    report = simulate("failover", world, execution_input, echo_handler_output=False)
    assert report["status"] == "SUCCEEDED", report["cause"]
    output = report["output"]
    assert output["outcome"] == "completed", output
    return report, output


def main() -> int:
    ok = True
    print(f"\nfailover (budget: a drill whose writer changes after 2 polls <= {MAX_TRANSITIONS} billed transitions; "
          f"poll interval <= {MAX_POLL_SECONDS} s)")
    print("  the cluster reads failing-over for 2 polls; the 3rd sees the new writer")
    drill = {**_input("failover-drill.json"), "failback": False}
    for label, execution_input, budgeted in (("drill", drill, True),
                                             ("drill with failback", _input("failover-drill.json"), False)):
        report, output = _figures(_world("failover-drill.yaml", 2), execution_input)
        timings, polls = output["timings"], report["states"].count("CheckProgress")
        print(f"  {label:20s} {report['transitions']:3d} transitions, {report['lambda_invocations']:2d} Lambda "
              f"invocations, {polls} polls {timings['poll_interval_seconds']} s apart; writer changed after "
              f"{timings['writer_changed_after_seconds']} s, available after {timings['available_after_seconds']} s; "
              f"${report['transitions'] * STANDARD_TRANSITION:.5f} a run")
        if budgeted:
            ok &= report["transitions"] <= MAX_TRANSITIONS and timings["poll_interval_seconds"] <= MAX_POLL_SECONDS
    for operation in ("switchover", "failover", "detach-and-promote"):
        report, output = _figures(_world("global-orders.yaml", 2), _input(f"failover-{operation}.json"))
        print(f"  {operation:20s} {report['transitions']:3d} transitions, {report['lambda_invocations']:2d} Lambda "
              f"invocations; available after {output['timings']['available_after_seconds']} s, data loss window "
              f"{output['data_loss_window_seconds']} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
