"""Facts about Aurora DB instances every workflow decides with (pure): which
statuses serve, which mean a create failed, how instance sizes order, how
much memory a class has, and whether one class is at least another."""

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


# Memory (GiB) of Aurora's DB instance classes, from the AWS page "Hardware specifications
# for DB instance classes for Aurora":
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.Summary.html
# In the memory-optimized families a large has half an xlarge's memory and an Nxlarge
# N times it; x2iedn starts at xlarge. Burstable classes are listed size by size.
_XLARGE_GIB = {"r5": 32, "r6g": 32, "r6gd": 32, "r6i": 32, "r6id": 32, "r7g": 32, "r7i": 32, "r8g": 32,
               "x2g": 64, "x2iedn": 128}
_WITHOUT_LARGE = frozenset({"x2iedn"})
_BURSTABLE_GIB = {"t3": {"medium": 4, "large": 8}, "t4g": {"medium": 4, "large": 8}}
# Each ACU is about 2 GiB of memory with its CPU and networking (Aurora User Guide,
# "Requirements and limitations for Aurora Serverless v2", the capacity range).
GIB_PER_ACU = 2


def memory_gib(instance_class: str, max_acu: float | None = None) -> float:
    """The class's memory in GiB; a Serverless v2 instance's is its cluster's max_acu x 2 GiB.
    ValueError when it is not known (a class outside the table, or db.serverless without max_acu)."""
    if instance_class == SERVERLESS_CLASS:
        if max_acu is None:
            raise ValueError(f"the memory of {SERVERLESS_CLASS} depends on the cluster's max_acu, which is not known")
        return max_acu * GIB_PER_ACU
    family, _, size = instance_class.removeprefix("db.").partition(".")
    if family in _BURSTABLE_GIB and size in _BURSTABLE_GIB[family]:
        return _BURSTABLE_GIB[family][size]
    if family in _XLARGE_GIB:
        if size == "large" and family not in _WITHOUT_LARGE:
            return _XLARGE_GIB[family] // 2
        match = re.fullmatch(r"([2-9]|[1-9]\d+)?xlarge", size)
        if match:
            return _XLARGE_GIB[family] * int(match.group(1) or 1)
    raise ValueError(f"the memory of {instance_class} is not known")


def at_least(instance_class: str, other_class: str, max_acu: float | None = None) -> bool:
    """Whether `instance_class` is at least `other_class`: by size_rank when neither is
    db.serverless, else by memory (db.serverless: the cluster's max_acu x 2 GiB).
    ValueError when a memory needed is not known (see memory_gib)."""
    if SERVERLESS_CLASS not in (instance_class, other_class):
        return size_rank(instance_class) >= size_rank(other_class)
    return memory_gib(instance_class, max_acu) >= memory_gib(other_class, max_acu)


def serving_readers(instances: list[dict]) -> list[dict]:
    """Readers that are available or being created (what max_readers counts)."""
    return [i for i in instances if not i["writer"] and i["status"] not in NOT_SERVING]
