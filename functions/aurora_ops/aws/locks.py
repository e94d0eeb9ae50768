"""Per-cluster locks, event de-duplication and the removal history (for cooldowns),
in the state table (DynamoDB).

Items expire through the numeric TTL attribute `expires_at`; because DynamoDB
deletes expired items lazily, the conditions also treat them as free."""

from __future__ import annotations

import os

from botocore.exceptions import ClientError

from ..core import clock
from .clients import client, error_code, translate_errors

LOCK_TTL_SECONDS = 4 * 3600  # the longest workflow's TimeoutSeconds (checked by a test)
EVENT_TTL_SECONDS = 24 * 3600  # EventBridge redelivers within this window


def _table() -> str:
    return os.environ["STATE_TABLE_NAME"]


def _lock_put(cluster_id: str, owner: str, workflow: str, now: int, ttl: int) -> dict:
    return {
        "TableName": _table(),
        "Item": {
            "pk": {"S": f"lock#{cluster_id}"},
            "owner": {"S": owner},
            "workflow": {"S": workflow},
            "expires_at": {"N": str(now + ttl)},
        },
        # Free, expired, or already ours (a retried invocation).
        "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now OR #owner = :owner",
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": {":now": {"N": str(now)}, ":owner": {"S": owner}},
    }


@translate_errors
def acquire(cluster_id: str, owner: str, workflow: str, event_id: str | None = None,
            ttl: int = LOCK_TTL_SECONDS) -> str | None:
    """Take the lock; returns None on success, else why not: `in-progress` or
    `duplicate-event` (this event was already handled by another execution)."""
    now = int(clock.now().timestamp())
    lock = _lock_put(cluster_id, owner, workflow, now, ttl)
    dynamodb = client("dynamodb")
    if event_id is None:
        try:
            dynamodb.put_item(**lock)
            return None
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return "in-progress"
            raise
    marker = {
        "TableName": _table(),
        "Item": {
            "pk": {"S": f"event#{event_id}"},
            "owner": {"S": owner},
            "expires_at": {"N": str(now + EVENT_TTL_SECONDS)},
        },
        "ConditionExpression": "attribute_not_exists(pk) OR #owner = :owner",
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": {":owner": {"S": owner}},
    }
    try:
        dynamodb.transact_write_items(TransactItems=[{"Put": lock}, {"Put": marker}])
        return None
    except ClientError as exc:
        if error_code(exc) != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if len(reasons) == 2 and reasons[1] == "ConditionalCheckFailed":
            return "duplicate-event"
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return "in-progress"
        raise


@translate_errors
def release(cluster_id: str, owner: str) -> None:
    """Release the lock if we hold it; a lock someone else holds is left alone."""
    try:
        client("dynamodb").delete_item(
            TableName=_table(),
            Key={"pk": {"S": f"lock#{cluster_id}"}},
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": owner}},
        )
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise


def _item(pk: str) -> dict | None:
    return client("dynamodb").get_item(TableName=_table(), Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


@translate_errors
def holder(cluster_id: str) -> str | None:
    """Who holds the cluster's lock now (a read: for dry runs, which write nothing)."""
    item = _item(f"lock#{cluster_id}")
    if not item or int(item["expires_at"]["N"]) < int(clock.now().timestamp()):
        return None
    return item["owner"]["S"]


HISTORY_TTL_SECONDS = 7 * 24 * 3600  # longer than any cooldown


@translate_errors
def last_removal(cluster_id: str) -> dict | None:
    """The latest removal this system made in the cluster: {at, instance_id, owner}."""
    item = _item(f"removed#{cluster_id}")
    if not item:
        return None
    return {"at": clock.parse(item["at"]["S"]), "instance_id": item["instance_id"]["S"], "owner": item["owner"]["S"]}


@translate_errors
def record_removal(cluster_id: str, instance_id: str, owner: str) -> None:
    now = clock.now()
    client("dynamodb").put_item(TableName=_table(), Item={
        "pk": {"S": f"removed#{cluster_id}"}, "at": {"S": clock.iso(now)}, "instance_id": {"S": instance_id},
        "owner": {"S": owner}, "expires_at": {"N": str(int(now.timestamp()) + HISTORY_TTL_SECONDS)},
    })


def batch_items(keys: list[str]) -> dict[str, dict]:
    """The items of these keys that exist ({pk: item}), read consistently in batches of
    100 keys (BatchGetItem's limit). Callers translate errors."""
    items: dict[str, dict] = {}
    dynamodb = client("dynamodb")
    for offset in range(0, len(keys), 100):
        request = {_table(): {"Keys": [{"pk": {"S": k}} for k in keys[offset:offset + 100]], "ConsistentRead": True}}
        for _ in range(10):  # unprocessed keys come back under throttling: ask again, bounded
            answer = dynamodb.batch_get_item(RequestItems=request)
            items.update({i["pk"]["S"]: i for i in answer["Responses"].get(_table(), [])})
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                         "Message": "unprocessed keys after 10 batch reads"}}, "BatchGetItem")
    return items


@translate_errors
def cluster_states(cluster_ids: list[str]) -> dict[str, dict]:
    """For each cluster, its lock holder and latest removal ({"holder", "removal"}),
    read consistently in batches of 100 keys (BatchGetItem's limit)."""
    now = int(clock.now().timestamp())
    items = batch_items([f"{kind}#{c}" for c in sorted(set(cluster_ids)) for kind in ("lock", "removed")])
    states = {}
    for cluster_id in cluster_ids:
        lock, removed = items.get(f"lock#{cluster_id}"), items.get(f"removed#{cluster_id}")
        live = lock and int(lock["expires_at"]["N"]) >= now
        states[cluster_id] = {
            "holder": lock["owner"]["S"] if live else None,
            "removal": {"at": clock.parse(removed["at"]["S"]), "instance_id": removed["instance_id"]["S"],
                        "owner": removed["owner"]["S"]} if removed else None,
        }
    return states


@translate_errors
def last_completed(key: str) -> dict | None:
    """The latest operation completed on `key` ({"fingerprint", "owner", "at"})."""
    item = _item(f"completed#{key}")
    if not item:
        return None
    return {"fingerprint": item["fingerprint"]["S"], "owner": item["owner"]["S"], "at": clock.parse(item["at"]["S"])}


@translate_errors
def record_completed(key: str, fingerprint: str, owner: str) -> None:
    """Remember that `owner` completed the operation `fingerprint` on `key`, so that a
    duplicate start of the same input can be recognised."""
    now = clock.now()
    client("dynamodb").put_item(TableName=_table(), Item={
        "pk": {"S": f"completed#{key}"}, "fingerprint": {"S": fingerprint}, "owner": {"S": owner},
        "at": {"S": clock.iso(now)}, "expires_at": {"N": str(int(now.timestamp()) + HISTORY_TTL_SECONDS)},
    })
