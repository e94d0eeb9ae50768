"""Creating an instance where there is capacity: shared by scale-up and snapshot-restore."""

from __future__ import annotations

from collections.abc import Callable

from ..aws import rds
from ..core.errors import aws_error_class
from ..core.tags import CREATED_BY_TAG


def create_first_available(
    candidates: list[dict], start: int, instance_id_for: Callable[[int], str],
    create: Callable[[str, dict], None], owner: str, region: str | None = None,
) -> tuple[int | None, str | None, list[dict]]:
    """Try candidates[start:] in order until a create is accepted.

    InsufficientDBInstanceCapacity is recorded and the next candidate tried; an
    instance that already exists and carries `owner`'s tag is our own create
    from a retried invocation. Returns (index, instance id, attempts), or
    (None, None, attempts) when no candidate had capacity. Other errors raise."""
    attempts = []
    for index in range(start, len(candidates)):
        candidate, instance_id = candidates[index], instance_id_for(index)
        try:
            create(instance_id, candidate)
        except aws_error_class("InsufficientDBInstanceCapacity"):
            attempts.append({**candidate, "result": "insufficient-capacity"})
            continue
        except aws_error_class("DBInstanceAlreadyExists"):
            existing = rds.describe_instance(instance_id, region)
            if not existing or existing["tags"].get(CREATED_BY_TAG) != owner:
                raise
        return index, instance_id, attempts
    return None, None, attempts
