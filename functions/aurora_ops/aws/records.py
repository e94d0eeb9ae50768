"""Operation records in the state table: one DynamoDB item per restore operation with its status,
and the restore drills' results per cluster (latest, and latest passed);
a timestamp per step and an audit list; expires through `expires_at`."""

from __future__ import annotations

import json
import os

from ..core import clock
from .clients import client, translate_errors
from .locks import batch_items

RECORD_TTL_SECONDS = 90 * 24 * 3600


def _key(operation_id: str) -> dict:
    return {"pk": {"S": f"operation#{operation_id}"}}


@translate_errors
def record(operation_id: str, execution_name: str, step: str, status: str, detail: dict | None = None) -> None:
    """Set the status, stamp the step, append an audit entry (creating the item if needed)."""
    now = clock.now()
    entry = {"M": {"at": {"S": clock.iso(now)}, "execution": {"S": execution_name}, "step": {"S": step},
                   "status": {"S": status}, "detail": {"S": json.dumps(detail or {}, default=str)}}}
    client("dynamodb").update_item(
        TableName=os.environ["STATE_TABLE_NAME"],
        Key=_key(operation_id),
        UpdateExpression=("SET #status = :status, #step = :now, expires_at = :expires, "
                          "audit = list_append(if_not_exists(audit, :empty), :entry)"),
        ExpressionAttributeNames={"#status": "status", "#step": f"step_{step}"},
        ExpressionAttributeValues={
            ":status": {"S": status}, ":now": {"S": clock.iso(now)},
            ":expires": {"N": str(int(now.timestamp()) + RECORD_TTL_SECONDS)},
            ":empty": {"L": []}, ":entry": {"L": [entry]},
        },
    )


DRILL_TTL_SECONDS = 400 * 24 * 3600  # a year of drills, and then some


@translate_errors
def record_drill(cluster_id: str, execution_name: str, passed: bool, detail: dict) -> None:
    """A restore drill's result: `drill#<cluster>` holds the latest, and when it passed,
    `drill-passed#<cluster>` the latest that passed (what dr-readiness checks the age of)."""
    now = clock.now()
    item = {"at": {"S": clock.iso(now)}, "execution": {"S": execution_name}, "passed": {"BOOL": passed},
            "detail": {"S": json.dumps(detail, default=str)},
            "expires_at": {"N": str(int(now.timestamp()) + DRILL_TTL_SECONDS)}}
    dynamodb = client("dynamodb")
    keys = [f"drill#{cluster_id}"] + ([f"drill-passed#{cluster_id}"] if passed else [])
    for key in keys:
        dynamodb.put_item(TableName=os.environ["STATE_TABLE_NAME"], Item={"pk": {"S": key}, **item})


@translate_errors
def last_passed_drills(cluster_ids: list[str]) -> dict[str, dict | None]:
    """For each cluster, its latest passed restore drill ({"at", "execution", "detail"}) or None."""
    return _drills("drill-passed", cluster_ids)


@translate_errors
def last_drills(cluster_ids: list[str]) -> dict[str, dict | None]:
    """For each cluster, its latest restore drill, passed or not ({"at", "execution", "detail"}) or None."""
    return _drills("drill", cluster_ids)


def _drills(kind: str, cluster_ids: list[str]) -> dict[str, dict | None]:
    found = batch_items(sorted({f"{kind}#{c}" for c in cluster_ids}))
    return {c: ({"at": clock.parse(found[k]["at"]["S"]), "execution": found[k]["execution"]["S"],
                 "detail": json.loads(found[k]["detail"]["S"])} if (k := f"{kind}#{c}") in found else None)
            for c in cluster_ids}
