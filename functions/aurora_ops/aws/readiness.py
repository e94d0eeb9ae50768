"""dr-readiness's state in the state table: one item per resource it checks,
`readiness#<kind>#<id>` (kind: cluster, global or dsql), holding each check's state
and detail as of the last run, whether the resource is ready and since when, and the
readiness last notified. A change is notified by the execution whose conditional write
of `notified_ready` succeeds, so two executions that see the same change tell it once.
Also the change notification and the run's metrics (no per-resource dimension)."""

from __future__ import annotations

import os

from botocore.exceptions import ClientError

from ..core import clock
from .clients import client, error_code, translate_errors
from .locks import batch_items
from .reporting import publish_or_raise, record_counts

WORKFLOW = "dr-readiness"
TTL_SECONDS = 30 * 24 * 3600  # a resource no longer checked drops out of the table after a month


def key(kind: str, resource_id: str) -> str:
    return f"readiness#{kind}#{resource_id}"


@translate_errors
def read(keys: list[str]) -> dict[str, dict]:
    """{key: {"ready", "notified_ready", "since"}} of the keys that have an item, read
    consistently in batches of 100 keys."""
    found = batch_items(sorted(set(keys)))
    return {k: {"ready": item["ready"]["BOOL"] if "ready" in item else None,
                "notified_ready": item["notified_ready"]["BOOL"] if "notified_ready" in item else None,
                "since": item["since"]["S"] if "since" in item else None}
            for k, item in found.items()}


def _checks(checks: list[dict]) -> dict:
    return {"M": {c["name"]: {"M": {"state": {"S": c["state"]}, "detail": {"S": c["detail"]}}} for c in checks}}


@translate_errors
def write(resource: dict, since: str, execution: str, told: bool | None, claim: bool) -> bool:
    """Record the resource's checks as of now. With `claim`, also record its readiness as
    notified, only if the readiness notified so far is still `told` (None: none yet);
    False when another execution claimed it first (nothing is written then)."""
    now = clock.now()
    values = {
        ":kind": {"S": resource["kind"]}, ":id": {"S": resource["id"]}, ":ready": {"BOOL": resource["ready"]},
        ":checks": _checks(resource["checks"]), ":failed": {"L": [{"S": n} for n in resource["failed"]]},
        ":since": {"S": since}, ":now": {"S": clock.iso(now)}, ":execution": {"S": execution},
        ":expires": {"N": str(int(now.timestamp()) + TTL_SECONDS)},
    }
    fields = ("kind", "resource_id", "ready", "checks", "failed", "since", "checked_at", "checked_by", "expires_at")
    placeholders = (":kind", ":id", ":ready", ":checks", ":failed", ":since", ":now", ":execution", ":expires")
    names = {f"#{f}": f for f in fields}
    assignments = [f"#{f} = {p}" for f, p in zip(fields, placeholders)]
    params = {}
    if claim:
        names.update({"#notified_ready": "notified_ready", "#notified_at": "notified_at",
                      "#notified_by": "notified_by"})
        assignments += ["#notified_ready = :ready", "#notified_at = :now", "#notified_by = :execution"]
        if told is None:
            params["ConditionExpression"] = "attribute_not_exists(#notified_ready)"
        else:
            params["ConditionExpression"] = "#notified_ready = :told"
            values[":told"] = {"BOOL": told}
    try:
        client("dynamodb").update_item(
            TableName=os.environ["STATE_TABLE_NAME"], Key={"pk": {"S": key(resource["kind"], resource["id"])}},
            UpdateExpression="SET " + ", ".join(assignments), ExpressionAttributeNames=names,
            ExpressionAttributeValues=values, **params)
    except ClientError as exc:
        if claim and error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


@translate_errors
def release(resource: dict, told: bool | None, execution: str) -> None:
    """Give back a claim whose notification was not sent: the readiness notified is `told`
    again (None: none), so that the next run tells the change. Only this execution's claim."""
    update = "REMOVE #notified_ready" if told is None else "SET #notified_ready = :told"
    values = {":execution": {"S": execution}, **({} if told is None else {":told": {"BOOL": told}})}
    try:
        client("dynamodb").update_item(
            TableName=os.environ["STATE_TABLE_NAME"], Key={"pk": {"S": key(resource["kind"], resource["id"])}},
            UpdateExpression=update, ConditionExpression="#notified_by = :execution",
            ExpressionAttributeNames={"#notified_ready": "notified_ready", "#notified_by": "notified_by"},
            ExpressionAttributeValues=values)
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise


@translate_errors
def publish(subject: str, body: dict) -> None:
    """The notification of the run's changes. Raises when SNS (or its key) refuses."""
    publish_or_raise(WORKFLOW, subject, body, "readiness-changed")


def record_metrics(counts: dict[str, int]) -> str | None:
    """The run's counts as EMF metrics (dimension Workflow only: their cost does not grow
    with the fleet). Best effort: a warning instead of an error."""
    return record_counts(WORKFLOW, counts)
