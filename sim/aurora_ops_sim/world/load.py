"""Reading and checking world files (format v1 of the simulator contract), defaults filled in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from aurora_ops.core import clock
from aurora_ops.core.errors import InvalidPolicy
from aurora_ops.core.policy import parse_policy_document

from .errors import WorldError
from .load_dr import dr_defaults, global_members

__all__ = ["WorldError", "load_world", "unmatched_policy_keys"]


def _schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("schema.json").read_text())


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_world(source: str | Path | dict) -> dict:
    """A validated world with defaults filled in. Accepts a YAML/JSON path or a dict."""
    if isinstance(source, dict):
        world = json.loads(json.dumps(source))
    else:
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise WorldError(f"cannot read world file {source}: {exc.strerror}") from None
        try:
            world = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise WorldError(f"world file {source} is not valid YAML/JSON: {exc}".replace("\n", " ")) from None
        # YAML turns unquoted timestamps into datetimes; the format wants strings.
        world = json.loads(json.dumps(world, default=_yaml_scalar))
    if not isinstance(world, dict):
        raise WorldError("world: must be a mapping")
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(world), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        raise WorldError(f"world.{_path(error.path)}: {error.message}".replace("world.(top level)", "world"))
    try:
        parse_policy_document(world.get("policies", {}))
    except InvalidPolicy as exc:
        raise WorldError(f"world.policies{str(exc).removeprefix('policy')}") from None
    return _with_defaults(world)


def unmatched_policy_keys(world: dict, created=()) -> list[str]:
    """Policy keys that name no cluster of the world (nor one the run will create,
    such as a restore target): most often a typo, which leaves a cluster unmanaged."""
    policies = world.get("policies", {})
    v2 = "policies" in policies or "clusters" in policies
    known = {c["id"].lower() for c in world.get("clusters", [])} | {c.lower() for c in created}
    named = policies.get("clusters", {}) if v2 else {k: v for k, v in policies.items() if k != "dsql_clusters"}
    return [f"clusters.{key}" if v2 else key for key in named if key.lower() not in known]


def _yaml_scalar(value):
    if isinstance(value, datetime):
        return clock.iso(value if value.tzinfo else value.replace(tzinfo=UTC))
    return str(value)


def _with_defaults(world: dict) -> dict:
    world.setdefault("region", "us-east-1")
    world.setdefault("account_id", "123456789012")
    world.setdefault("now", clock.iso(datetime.now(UTC).replace(microsecond=0)))
    now = clock.parse(world["now"])
    world.setdefault("policies", {})
    world.setdefault("clusters", [])
    world.setdefault("snapshots", [])
    faults = world.setdefault("faults", {})
    for key in ("insufficient_capacity", "capacity_lost", "not_orderable", "api_errors", "restore_ends_in", "lambda",
                "data_api"):
        faults.setdefault(key, [])
    for fault in faults["api_errors"]:
        fault.setdefault("times", 1)
        fault.setdefault("service", "rds")
    for fault in faults["lambda"]:
        fault.setdefault("times", 1)
    faults.setdefault("duplicate_start", False)
    timing = world.setdefault("timing", {})
    timing.setdefault("polls_until_available", 1)
    timing.setdefault("polls_until_deleted", 1)
    timing.setdefault("lambda_ms", 300)
    timing.setdefault("api_ms", 60)
    timing.setdefault("polls_until_failed_over", 1)
    world.setdefault("locks", [])
    world.setdefault("kms_keys", [])
    for key in world["kms_keys"]:
        key.setdefault("region", world["region"])
    seen = set()
    members = global_members(world)  # a global secondary's instances are all readers
    for cluster in world["clusters"]:
        where = f"world.clusters[{world['clusters'].index(cluster)}]"
        cluster.setdefault("region", world["region"])
        cluster.setdefault("engine_version", "16.4" if cluster["engine"] == "aurora-postgresql" else "8.0.mysql_aurora.3.08.0")
        cluster.setdefault("status", "available")
        cluster.setdefault("availability_zones", [f"{cluster['region']}{s}" for s in "abc"])
        cluster.setdefault("tags", {})
        cluster.setdefault("earliest_restorable_time", clock.iso(now - timedelta(days=1)))
        cluster.setdefault("latest_restorable_time", clock.iso(now - timedelta(minutes=5)))
        acus = cluster.get("serverless_v2")
        if acus and acus["min_acu"] > acus["max_acu"]:
            raise WorldError(f"{where}.serverless_v2: min_acu {acus['min_acu']} exceeds max_acu {acus['max_acu']}")
        instances = cluster.setdefault("instances", [])
        writers = [i for i in instances if i.get("writer")]
        if cluster["id"] in members or cluster.get("global_cluster"):
            if len(writers) > 1:
                raise WorldError(f"{where}.instances: at most one instance may have writer: true (found {len(writers)})")
        elif instances and len(writers) != 1:
            raise WorldError(f"{where}.instances: exactly one instance must have writer: true (found {len(writers)})")
        for index, instance in enumerate(instances):
            if instance["id"] in seen:
                raise WorldError(f"{where}.instances[{index}].id: {instance['id']!r} is used twice")
            seen.add(instance["id"])
            if instance["class"] == "db.serverless" and not acus:
                raise WorldError(f"{where}.instances[{index}].class: db.serverless needs the cluster's serverless_v2 "
                                 "(Aurora adds no Serverless v2 instance to a cluster without one)")
            instance.setdefault("az", cluster["availability_zones"][0])
            instance.setdefault("writer", False)
            instance.setdefault("status", "available")
            instance.setdefault("promotion_tier", 1)
            instance.setdefault("parameter_group", "default")
            instance.setdefault("created", clock.iso(now - timedelta(days=30)))
            instance.setdefault("tags", {})
    ids = [c["id"] for c in world["clusters"]]
    for index, cluster_id in enumerate(ids):
        if ids.index(cluster_id) != index:
            raise WorldError(f"world.clusters[{index}].id: {cluster_id!r} is used twice")
    clusters = {c["id"]: c for c in world["clusters"]}
    snapshot_ids = [(s.get("region", world["region"]), s["id"]) for s in world["snapshots"]]
    for index, key in enumerate(snapshot_ids):
        if snapshot_ids.index(key) != index:
            raise WorldError(f"world.snapshots[{index}].id: {key[1]!r} is used twice in {key[0]}")
    for index, snapshot in enumerate(world["snapshots"]):
        of = clusters.get(snapshot["cluster"], {})
        if "engine" not in snapshot and not of:
            raise WorldError(f"world.snapshots[{index}].engine: required when the cluster is not in the world")
        snapshot.setdefault("engine", of.get("engine"))
        snapshot.setdefault("engine_version", of.get("engine_version") or (
            "16.4" if snapshot["engine"] == "aurora-postgresql" else "8.0.mysql_aurora.3.08.0"))
        snapshot.setdefault("region", of.get("region", world["region"]))
        snapshot.setdefault("type", "manual")
        snapshot.setdefault("created", clock.iso(now - timedelta(hours=9)))
        snapshot.setdefault("status", "available")
        snapshot.setdefault("encrypted", False)
    dr_defaults(world)
    return world
