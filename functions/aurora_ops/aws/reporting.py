"""How outcomes are reported: an EMF metric per outcome and, for changes and
failures, an SNS message. Both are best effort: a failure is logged and returned
as a warning, never raised, so reporting can't turn a success into a failure
(or start a cleanup)."""

from __future__ import annotations

import json
import os
from collections import Counter

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from .clients import client

NAMESPACE = "AuroraOps"
metrics = Metrics(namespace=NAMESPACE, service="aurora-ops")  # explicit: same dimensions everywhere
logger = Logger(service="aurora-ops")

_METRIC_BY_ACTION = {
    "created": "ReadersCreated",
    "deleted": "ReadersRemoved",
    "none": "NoAction",
    "dry-run": "DryRuns",
    "failed": "WorkflowFailures",
    "restored": "RestoresCompleted",
}
_METRIC_BY_OUTCOME = {  # the failover workflow's outcomes
    "completed": "OperationsCompleted",
    "refused": "OperationsRefused",
    "dry-run": "DryRuns",
    "failed": "WorkflowFailures",
}


def report(workflow: str, outcome: dict, timings: dict[str, float] | None = None,
           metered: dict | None = None, notify_it: bool = True) -> dict:
    """Metrics (of `metered`, else of `outcome`) and, with `notify_it`, the notification of
    `outcome`: `{"warnings": [...]}` naming what failed, or `{}`, to merge into the output."""
    sent = notify(workflow, outcome) if notify_it else None
    warnings = [w for w in (record_metrics(workflow, metered or outcome, timings), sent) if w]
    return {"warnings": warnings} if warnings else {}


def record_metrics(workflow: str, outcome: dict, timings: dict[str, float] | None = None) -> str | None:
    """One count per outcome, the capacity fallbacks it took, and any timings (seconds).
    Returns a warning instead of raising."""
    fallbacks = sum(1 for a in outcome.get("attempts", []) if a["result"] != "available")
    return _metrics_best_effort(workflow, _METRIC_BY_ACTION[outcome["action"]], timings,
                                {"CapacityFallbacks": fallbacks} if fallbacks else {})


def report_operation(workflow: str, result: dict, subject: str, notify_it: bool,
                     timings: dict[str, float] | None = None) -> list[str]:
    """A metric per outcome (`result["outcome"]`: completed, refused, dry-run, failed) with
    the timings, and, when `notify_it`, the whole result as a notification. The warnings
    of what failed (best effort, as above)."""
    warnings = [_metrics_best_effort(workflow, _METRIC_BY_OUTCOME[result["outcome"]], timings, {})]
    if notify_it:
        warnings.append(publish(workflow, subject, result, result["outcome"]))
    return [w for w in warnings if w]


def report_drill(workflow: str, drill: dict) -> list[str]:
    """A restore drill's metrics (passed or failed, and its duration; no per-cluster
    dimension, so the cost does not grow with the fleet) and, when it failed, its
    result as a notification. The warnings of what failed (best effort, as above)."""
    failed = drill["outcome"] != "passed"
    timings = {"RestoreDrillDurationSeconds": drill["duration_seconds"]} if drill.get("duration_seconds") else {}
    warnings = [_metrics_best_effort(workflow, "RestoreDrillFailures" if failed else "RestoreDrillsPassed",
                                     timings, {})]
    if failed:
        warnings.append(publish(workflow, f"aurora-ops {workflow}: {drill['cluster_id']} failed", drill, "failed"))
    return [w for w in warnings if w]


def publish(workflow: str, subject: str, body: dict, action: str) -> str | None:
    """Publish `body` when a topic is configured; a warning instead of raising."""
    return _best_effort(lambda: publish_or_raise(workflow, subject, body, action))


def publish_or_raise(workflow: str, subject: str, body: dict, action: str) -> None:
    """Publish `body` when a topic is configured; raises when SNS (or its key) refuses,
    for a caller that must know (dr-readiness gives its claims back)."""
    topic = os.environ.get("NOTIFICATION_TOPIC_ARN")
    if topic:
        _publish(topic, subject, body, workflow, action)


def record_counts(workflow: str, counts: dict[str, int]) -> str | None:
    """Counts as metrics (dimension Workflow only). Returns a warning instead of raising."""
    return _metrics_best_effort(workflow, None, None, counts)


def _metrics_best_effort(workflow: str, name: str | None, timings: dict[str, float] | None,
                         counts: dict[str, int]):
    try:
        _record_metrics(workflow, name, timings, counts)
    except Exception as exc:  # noqa: BLE001 - best effort by design
        logger.warning("metrics not recorded", extra={"error": repr(exc)})
        metrics.clear_metrics()
        return f"metrics not recorded: {type(exc).__name__}: {exc}"
    return None


def _record_metrics(workflow: str, name: str | None, timings: dict[str, float] | None,
                    counts: dict[str, int]) -> None:
    metrics.add_dimension(name="Workflow", value=workflow)
    if name:  # the outcome's count
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    for count_name, value in counts.items():
        metrics.add_metric(name=count_name, unit=MetricUnit.Count, value=value)
    for timing, seconds in (timings or {}).items():
        metrics.add_metric(name=timing, unit=MetricUnit.Seconds, value=seconds)
    metrics.flush_metrics()


def notify(workflow: str, outcome: dict) -> str | None:
    """Publish changes and failures when a topic is configured. Not routine no-ops,
    and not rejected input: bad input changes nothing, not even a notification.
    Returns a warning instead of raising (SNS or its KMS key may refuse)."""
    return _best_effort(lambda: _notify(workflow, outcome))


def _best_effort(send) -> str | None:
    """Send; a failure is logged and returned as a warning, never raised."""
    try:
        send()
    except Exception as exc:  # noqa: BLE001 - best effort by design
        logger.warning("notification not sent", extra={"error": repr(exc)})
        return f"notification not sent: {type(exc).__name__}: {exc}"
    return None


def is_notable(outcome: dict) -> bool:
    """Changes and failures, and in observe mode what would have changed."""
    if outcome.get("error") == "InvalidInput":
        return False
    return outcome["action"] in ("created", "deleted", "restored", "failed") or (
        outcome["action"] == "dry-run" and bool(outcome.get("observed")))


def _notify(workflow: str, outcome: dict) -> None:
    topic = os.environ.get("NOTIFICATION_TOPIC_ARN")
    if not topic or not is_notable(outcome):
        return
    action = "would act (observe mode)" if outcome["action"] == "dry-run" else outcome["action"]
    subject = f"aurora-ops {workflow}: {action} {outcome.get('instance_id') or ''} ({outcome.get('cluster_id')})"
    _publish(topic, subject, outcome, workflow, outcome["action"])


def notify_summary(workflow: str, outcomes: list[dict]) -> str | None:
    """One message for a run with many notable outcomes (a fleet's scale-down),
    instead of one each. Returns a warning instead of raising."""
    notable = [o for o in outcomes if is_notable(o)]
    if not notable:
        return None
    counts = ", ".join(f"{n} {a}" for a, n in sorted(Counter(o["action"] for o in notable).items()))
    return publish(workflow, f"aurora-ops {workflow}: {counts}", {"outcomes": notable}, "summary")


def _publish(topic: str, subject: str, body: dict, workflow: str, action: str) -> None:
    client("sns").publish(
        TopicArn=topic,
        Subject=subject[:100],
        Message=json.dumps(body, indent=2, default=str),
        MessageAttributes={
            "workflow": {"DataType": "String", "StringValue": workflow},
            "action": {"DataType": "String", "StringValue": action},
        },
    )
