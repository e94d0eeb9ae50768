"""Facts about Aurora DB instances every workflow decides with (pure): which
statuses serve, which mean a create failed, how instance sizes order."""

from __future__ import annotations

import re

# Instances in these statuses are not (and will not become) serving readers.
NOT_SERVING = frozenset(
    {
        "deleting",
        "failed",
        "insufficient-capacity",
        "incompatible-network",
        "incompatible-option-group",
        "incompatible-parameters",
        "incompatible-restore",
        "inaccessible-encryption-credentials",
        "inaccessible-encryption-credentials-recoverable",
        "restore-error",
    }
)
# A new instance that reaches one of these will never become available.
CREATE_FAILED = NOT_SERVING - {"deleting"}
AUTOSCALING_PREFIX = "application-autoscaling-"

SERVERLESS_CLASS = "db.serverless"  # an Aurora Serverless v2 instance

_NAMED_SIZES = {"nano": -4, "micro": -3, "small": -2, "medium": -1, "large": 0, "xlarge": 1}


def size_rank(instance_class: str) -> int:
    """Order of the size token: medium < large < xlarge < 2xlarge < ... ."""
    token = instance_class.rsplit(".", 1)[-1]
    if token in _NAMED_SIZES:
        return _NAMED_SIZES[token]
    match = re.fullmatch(r"(\d+)xlarge", token)
    if match:
        return int(match.group(1))
    if token == "metal":
        return 1000
    raise ValueError(f"unknown instance size in {instance_class!r}")


def serving_readers(instances: list[dict]) -> list[dict]:
    """Readers that are available or being created (what max_readers counts)."""
    return [i for i in instances if not i["writer"] and i["status"] not in NOT_SERVING]
