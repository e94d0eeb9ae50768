"""Scale-up decisions: which readers count, and the ordered candidates (pure)."""

from __future__ import annotations

import hashlib
import re

from .policy import ClusterPolicy

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


def plan_candidates(
    policy: ClusterPolicy, writer_class: str, cluster_azs: list[str], readers: list[dict]
) -> list[dict]:
    """(class, AZ) pairs in the order they are tried; see the policy document's rules."""
    classes = list(policy.instance_classes or (writer_class,))
    if not policy.allow_smaller_than_writer:
        classes = [c for c in classes if size_rank(c) >= size_rank(writer_class)]
    wanted = policy.availability_zones or tuple(cluster_azs)
    azs = [az for az in wanted if az in cluster_azs]
    per_az = {az: sum(1 for r in readers if r["availability_zone"] == az) for az in azs}
    azs.sort(key=per_az.__getitem__)  # stable: ties keep the policy's order
    if policy.strategy == "az-priority":
        pairs = [(c, az) for az in azs for c in classes]
    else:
        pairs = [(c, az) for c in classes for az in azs]
    return [{"instance_class": c, "availability_zone": az} for c, az in pairs]


def reader_identifier(cluster_id: str, execution_name: str, attempt: int) -> str:
    """Deterministic per execution and attempt, so a retried create finds its own instance."""
    digest = hashlib.sha256(execution_name.encode()).hexdigest()[:8]
    suffix = f"-aops-{digest}-{attempt}"
    return cluster_id[: 63 - len(suffix)].rstrip("-") + suffix
