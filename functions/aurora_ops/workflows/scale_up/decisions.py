"""Scale-up decisions (pure): what was asked, whether the need is stale, and the ordered candidates."""

from __future__ import annotations

from datetime import datetime, timedelta

from ...core import clock
from ...core.errors import InvalidInput
from ...core.instances import SERVERLESS_CLASS, at_least, memory_gib
from ...core.policy import ClusterPolicy
from ...core.tags import CREATED_BY_TAG
from ...core.triggers import is_event, request_from_event
from ...core.validation import validate

INPUT_SCHEMA = (__package__, "input")


def parse_request(document: object) -> dict:
    """Normalise the direct form or an EventBridge event to a request: {cluster_id,
    instance_ids, cluster_hint, reason, dry_run, event_id, event_time, trigger, ignore}."""
    if is_event(document):
        return request_from_event(document)
    validate(document, INPUT_SCHEMA, InvalidInput, "input")
    return {
        "cluster_id": document["cluster_id"].lower(),  # as RDS stores it
        "instance_ids": [],
        "cluster_hint": None,
        "reason": document.get("reason", "manual"),
        "dry_run": document.get("dry_run", False),
        "event_id": None,
        "event_time": None,
        "trigger": "manual",
        "ignore": None,
    }


def cooldown(readers: list[dict], event_time: datetime | None, now: datetime, minutes: int) -> str | None:
    """Why a need is stale, or None. `readers` are the cluster's serving readers:
    a need older than the newest one this system created was met by it, and
    none is acted on within `minutes` after that reader was created."""
    created = [clock.parse(r["created"]) for r in readers if CREATED_BY_TAG in r["tags"] and r["created"]]
    if not created:
        return None
    newest = max(created)
    if event_time is not None and event_time < newest:
        return f"the event ({clock.iso(event_time)}) is older than reader created at {clock.iso(newest)}"
    if now < newest + timedelta(minutes=minutes):
        return f"a reader was created at {clock.iso(newest)}; cooldown_minutes is {minutes}"
    return None


def plan_candidates(
    policy: ClusterPolicy, writer_class: str, cluster_azs: list[str], readers: list[dict],
    *, max_acu: float | None = None,
) -> list[dict]:
    """(class, AZ) pairs in the order they are tried; see the policy document's rules.
    `max_acu`: the cluster's Serverless v2 MaxCapacity, None when it has no Serverless
    v2 scaling configuration (then db.serverless is no candidate)."""
    excluded = excluded_classes(policy, writer_class, max_acu=max_acu)
    classes = [c for c in policy.instance_classes or (writer_class,) if c not in excluded]
    wanted = policy.availability_zones or tuple(cluster_azs)
    azs = [az for az in wanted if az in cluster_azs]
    per_az = {az: sum(1 for r in readers if r["availability_zone"] == az) for az in azs}
    azs.sort(key=per_az.__getitem__)  # stable: ties keep the policy's order
    if policy.strategy == "az-priority":
        pairs = [(c, az) for az in azs for c in classes]
    else:
        pairs = [(c, az) for c in classes for az in azs]
    return [{"instance_class": c, "availability_zone": az} for c, az in pairs]


def excluded_classes(policy: ClusterPolicy, writer_class: str, *, max_acu: float | None = None) -> dict[str, str]:
    """{class: why it is no candidate} for the classes plan_candidates leaves out: db.serverless
    in a cluster without a Serverless v2 scaling configuration, and (unless
    allow_smaller_than_writer) a class smaller than the writer's, a serverless one by
    max_acu x 2 GiB of memory, or one whose memory cannot be compared."""
    excluded = {}
    for instance_class in dict.fromkeys(policy.instance_classes or (writer_class,)):
        if instance_class == SERVERLESS_CLASS and max_acu is None:
            excluded[instance_class] = (f"{SERVERLESS_CLASS} is only for a cluster with a Serverless v2 scaling "
                                        "configuration, and this cluster has none")
            continue
        if policy.allow_smaller_than_writer:
            continue
        try:
            if at_least(instance_class, writer_class, max_acu):
                continue
        except ValueError as exc:
            excluded[instance_class] = f"{instance_class} cannot be compared with the writer's {writer_class}: {exc}"
            continue
        if SERVERLESS_CLASS in (instance_class, writer_class):
            excluded[instance_class] = (f"{instance_class} ({memory_gib(instance_class, max_acu):g} GiB, max_acu "
                                        f"{max_acu:g}) is smaller than the writer's {writer_class} "
                                        f"({memory_gib(writer_class, max_acu):g} GiB)")
        else:
            excluded[instance_class] = f"{instance_class} is smaller than the writer's {writer_class}"
    return excluded


def without_unlisted_monitoring(settings: dict, allowed_role_names: set[str]) -> tuple[dict, str | None]:
    """The writer's settings for a new reader, without Enhanced Monitoring when its
    role is not one the stack may pass (iam:PassRole would deny the create), and
    the warning that says so; a reader without it beats no reader in a crunch."""
    role = settings.get("monitoring_role_arn")
    if not settings.get("monitoring_interval") or not role:
        return settings, None
    if role.split(":role/", 1)[-1] in allowed_role_names:
        return settings, None
    return ({**settings, "monitoring_interval": 0, "monitoring_role_arn": None},
            f"monitoring-role-not-allowed: the writer's Enhanced Monitoring role {role} is not in the stack's "
            "MonitoringRoleNames; the reader is created without Enhanced Monitoring")
