"""The report of one execution (the contract's fields, then extensions) and the
EMF metrics the handlers printed."""

from __future__ import annotations

import json
import sys

from .trace import last_values, tasks, timeline


def execution_report(*, workflow: str, name: str, described: dict, events: list[dict], invocations: int,
                     aws_calls: list[dict], world: dict, simulated_seconds: float, metrics: list[dict],
                     definition: dict | None = None) -> dict:
    """`described` is DescribeExecution's answer, `events` the execution history,
    `definition` the state machine's (for the items its Map states iterate over)."""
    states = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    scheduled = sum(1 for e in events if e["type"] == "TaskScheduled")
    task_entries = sum(1 for e in events if e["type"] == "TaskStateEntered")
    output = described.get("output")
    started_at, entries = timeline(events, definition)
    attempts = tasks(entries)
    last = last_values(events, ("plan", "outcome"))
    for call in aws_calls:  # the Task attempt (and Map iteration) each call was made in
        if call.get("execution") not in (None, name):
            continue  # a nested execution's call: its own report labels it
        attempt = attempts.get(call.get("task"))
        if attempt:
            call["state"], call["iteration"] = attempt["state"], attempt["iteration"]
    return {
        "workflow": workflow,
        "status": described["status"],
        "error": described.get("error"),
        "cause": described.get("cause"),
        "output": json.loads(output) if output else None,
        "states": states,
        # a retried task is billed again: one more transition per extra scheduling
        "transitions": len(states) + (scheduled - task_entries),
        "lambda_invocations": invocations,
        "aws_calls": aws_calls,
        "world": world,
        # extensions
        "execution_name": name,
        "simulated_seconds": simulated_seconds,
        "metrics": metrics,
        "started_at": started_at,
        "timeline": entries,  # on the simulated clock: see trace.py; each call's `task` is an entry's `id`
        "plan": last.get("plan"),  # the workflow's plan and outcome as its state last held them
        "last_outcome": last.get("outcome"),
    }


def emf_metrics(text: str, execution: str | None, echo: bool) -> list[dict]:
    """The CloudWatch embedded-metric-format records in a handler's stdout, one
    entry per metric; every line is echoed to stderr when `echo` (the report owns stdout)."""
    metrics = []
    for line in text.splitlines():
        if echo:
            sys.stderr.write(line + "\n")
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if isinstance(blob, dict) and "_aws" in blob:
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                dimensions = {d: blob[d] for group in directive["Dimensions"] for d in group}
                for metric in directive["Metrics"]:
                    metrics.append({"execution": execution, "namespace": directive["Namespace"],
                                    "name": metric["Name"], "unit": metric.get("Unit"),
                                    "value": blob[metric["Name"]], "dimensions": dimensions})
    return metrics


def notifications(calls: list[dict]) -> list[dict]:
    """Every SNS message the run published: subject, message (parsed when JSON), attributes."""
    published = []
    for call in calls:
        if call["service"] != "sns" or call["operation"] != "Publish" or call["error"]:
            continue
        params = call["params"]
        try:
            message = json.loads(params.get("Message", ""))
        except ValueError:
            message = params.get("Message")
        attributes = {k: v.get("StringValue") for k, v in (params.get("MessageAttributes") or {}).items()}
        published.append({"subject": params.get("Subject"), "message": message, "attributes": attributes})
    return published
