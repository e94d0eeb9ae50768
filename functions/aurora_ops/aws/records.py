"""Operation records in the state table: one DynamoDB item per restore operation with its status,
a timestamp per step and an audit list; expires through `expires_at`."""

from __future__ import annotations

import json
import os

from ..core import clock
from .clients import client, translate_errors

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
