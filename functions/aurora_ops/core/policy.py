"""The policy document: which clusters are managed and how (pure)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache

from .errors import InvalidPolicy
from .instances import size_rank
from .validation import core_schema, validate


@dataclass(frozen=True)
class ScaleDownPolicy:
    enabled: bool = True
    cpu_threshold: float = 10
    lookback_minutes: int = 5
    cooldown_minutes: int = 15


@dataclass(frozen=True)
class ScaleUpPolicy:
    cooldown_minutes: int = 15  # no new reader this soon after this system created one


@dataclass(frozen=True)
class ClusterPolicy:
    min_readers: int = 1
    max_readers: int = 15
    instance_classes: tuple[str, ...] | None = None  # None: the writer's class
    availability_zones: tuple[str, ...] | None = None  # None: the cluster's AZs
    strategy: str = "instance-priority"
    promotion_tier: int = 15
    allow_smaller_than_writer: bool = False
    scale_up: ScaleUpPolicy = ScaleUpPolicy()
    scale_down: ScaleDownPolicy = ScaleDownPolicy()


def parse_policy_document(document: object) -> dict[str, ClusterPolicy]:
    """Validate the whole document and return each cluster's policy with defaults."""
    validate(document, core_schema("policy"), InvalidPolicy, "policy")
    policies = {}
    for key, entry in document.items():
        cluster_id = key.lower()  # RDS stores identifiers in lowercase; events may not
        if cluster_id in policies:
            raise InvalidPolicy(f"policy.{key}: names the same cluster as another key ({cluster_id})")
        for index, instance_class in enumerate(entry.get("instance_classes", [])):
            try:
                size_rank(instance_class)
            except ValueError:
                raise InvalidPolicy(
                    f"policy.{key}.instance_classes[{index}]: {instance_class} has no known instance size "
                    f"(nano, micro, small, medium, large, xlarge, <N>xlarge or metal)") from None
        fields = dict(entry)
        for key in ("instance_classes", "availability_zones"):
            if key in fields:
                fields[key] = tuple(fields[key])
        fields["scale_up"] = ScaleUpPolicy(**fields.get("scale_up", {}))
        fields["scale_down"] = ScaleDownPolicy(**fields.get("scale_down", {}))
        policy = ClusterPolicy(**fields)
        if policy.min_readers > policy.max_readers:
            raise InvalidPolicy(
                f"policy.{cluster_id}.min_readers: {policy.min_readers} exceeds max_readers {policy.max_readers}"
            )
        policies[cluster_id] = policy
    return policies


@cache
def _deployed_policies(text: str) -> dict[str, ClusterPolicy]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InvalidPolicy(f"policy: not valid JSON ({exc})") from None
    return parse_policy_document(document)


def deployed_policies() -> dict[str, ClusterPolicy]:
    """The stack's policy document, handed to the functions in POLICY_DOCUMENT
    (a stack parameter): no API call and no extra client at cold start."""
    return _deployed_policies(os.environ.get("POLICY_DOCUMENT", "{}"))
