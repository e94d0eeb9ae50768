"""Snapshot-restore decisions (pure): which snapshot, which instances, where."""

from __future__ import annotations

import hashlib
import json
from fnmatch import fnmatchcase

from ...core.policy import ClusterPolicy


def latest_snapshot(snapshots: list[dict]) -> dict | None:
    """The newest `available` snapshot by creation time, never by list position."""
    available = [s for s in snapshots if s["status"] == "available" and s["created"]]
    return max(available, key=lambda s: (s["created"], s["snapshot_id"]), default=None)


def operation_id(source: dict, target: dict) -> str:
    """Stable for the same request, so a re-run finds (and resumes) its own work."""
    canonical = json.dumps({"source": source, "target": target}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def instance_slots(target_cluster_id: str, specs: list[dict]) -> list[dict]:
    """One slot per instance to create, in order; the first is the writer."""
    slots = []
    for spec in specs:
        for _ in range(spec.get("count", 1)):
            number = len(slots) + 1
            slots.append({
                "number": number,
                "name": f"{_instance_prefix(target_cluster_id)}-{number}",
                "instance_class": spec["instance_class"],
                "availability_zone": spec.get("availability_zone"),
                "promotion_tier": spec.get("promotion_tier", 1),
                "role": "writer" if number == 1 else "reader",
            })
    return slots


def _instance_prefix(target_cluster_id: str) -> str:
    """The target's name, or for a long one (instance names have 63 characters and
    need room for `-16-12`) a cut name plus a digest, so two long targets that
    share a prefix never name an instance alike."""
    if len(target_cluster_id) <= 56:
        return target_cluster_id
    return f"{target_cluster_id[:47]}-{hashlib.sha256(target_cluster_id.encode()).hexdigest()[:8]}"


def slot_instance_id(slot: dict, candidate_index: int) -> str:
    """The first try keeps the plain name; capacity fallbacks get a suffix."""
    return slot["name"] if candidate_index == 0 else f"{slot['name']}-{candidate_index + 1}"


def names_outside_pattern(pattern: str, target_cluster_id: str, slots: list[dict]) -> list[str]:
    """The names this restore would create that the stack's RestoreTargetPattern
    (an IAM wildcard: * and ?, which fnmatch reads alike) does not allow: IAM
    lets the stack tag, and so later delete, only names that match it."""
    names = [target_cluster_id] + [n for slot in slots for n in (slot_instance_id(slot, 0), slot_instance_id(slot, 1))]
    return [name for name in names if not fnmatchcase(name.lower(), pattern)]


def restore_candidates(slot: dict, cluster_azs: list[str], instances: list[dict], policy: ClusterPolicy | None) -> list[dict]:
    """The requested class and AZ first, then the other AZs of the subnet group
    (fewest instances first), then the policy's classes if the cluster has one:
    the same fallback scale-up uses."""
    classes = [slot["instance_class"]]
    if policy and policy.instance_classes:
        classes += [c for c in policy.instance_classes if c not in classes]
    per_az = {az: sum(1 for i in instances if i["availability_zone"] == az) for az in cluster_azs}
    azs = sorted(cluster_azs, key=per_az.__getitem__)
    if slot["availability_zone"] in azs:
        azs.remove(slot["availability_zone"])
        azs.insert(0, slot["availability_zone"])
    return [{"instance_class": c, "availability_zone": az} for c in classes for az in azs]
