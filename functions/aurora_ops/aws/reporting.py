"""How outcomes are reported: an EMF metric per outcome and, for changes and
failures, an SNS message."""

from __future__ import annotations

import json
import os

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from .clients import client

NAMESPACE = "AuroraOps"
metrics = Metrics(namespace=NAMESPACE, service="aurora-ops")  # explicit: same dimensions everywhere

_METRIC_BY_ACTION = {
    "created": "ReadersCreated",
    "deleted": "ReadersRemoved",
    "none": "NoAction",
    "dry-run": "DryRuns",
    "failed": "WorkflowFailures",
    "restored": "RestoresCompleted",
}


def record_metrics(workflow: str, outcome: dict, timings: dict[str, float] | None = None) -> None:
    """One count per outcome, the capacity fallbacks it took, and any timings (seconds)."""
    metrics.add_dimension(name="Workflow", value=workflow)
    metrics.add_metric(name=_METRIC_BY_ACTION[outcome["action"]], unit=MetricUnit.Count, value=1)
    fallbacks = sum(1 for a in outcome.get("attempts", []) if a["result"] != "available")
    if fallbacks:
        metrics.add_metric(name="CapacityFallbacks", unit=MetricUnit.Count, value=fallbacks)
    for name, seconds in (timings or {}).items():
        metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=seconds)
    metrics.flush_metrics()


def notify(workflow: str, outcome: dict) -> None:
    """Publish changes and failures when a topic is configured. Not routine no-ops,
    and not rejected input: bad input changes nothing, not even a notification."""
    topic = os.environ.get("NOTIFICATION_TOPIC_ARN")
    if not topic or outcome["action"] not in ("created", "deleted", "restored", "failed") or outcome.get("error") == "InvalidInput":
        return
    subject = f"aurora-ops {workflow}: {outcome['action']} {outcome.get('instance_id') or ''} ({outcome.get('cluster_id')})"
    client("sns").publish(
        TopicArn=topic,
        Subject=subject[:100],
        Message=json.dumps(outcome, indent=2, default=str),
        MessageAttributes={
            "workflow": {"DataType": "String", "StringValue": workflow},
            "action": {"DataType": "String", "StringValue": outcome["action"]},
        },
    )
