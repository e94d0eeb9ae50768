"""`aurora-ops policy check DOCUMENT [--world WORLD] [--json]`: validate a policy
document (v1 or v2, docs/policy.md) and show the policy each cluster resolves to.

Errors (exit 1): whatever the parser (aurora_ops.core.policy) rejects, one line per
entry, and with a world, a cluster whose `aurora-ops:policy` tag names no policy
(it would be unmanaged: `unknown-policy`). Warnings: document cluster ids that match
no world cluster, named policies no cluster uses, a tag an id entry overrides,
`db.serverless` for a cluster without a Serverless v2 scaling configuration."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path

import yaml

from aurora_ops.core.instances import SERVERLESS_CLASS
from aurora_ops.core.policy import POLICY_TAG, ClusterPolicy, parse_document

from .policy_errors import document_errors, key_pattern
from .policy_render import render
from .world import WorldError, load_world
from .world.load import _yaml_scalar

EXIT_INVALID = 1


def _leaves(values: dict, prefix: str = "") -> dict:
    """{"scale_down.cpu_threshold": 10, ...}: every leaf field, lists as lists."""
    out = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update(_leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return out


def _as_dict(policy: ClusterPolicy) -> dict:
    values = asdict(policy)
    values.pop("source")
    values["restore_drill"]["checks"] = [json.loads(c) for c in policy.restore_drill.checks]
    return json.loads(json.dumps(values))  # tuples -> lists


BUILT_IN = _leaves(_as_dict(ClusterPolicy()))
FIELDS = [f"{f.name}.{g.name}" if is_dataclass(f.default) else f.name
          for f in fields(ClusterPolicy) if f.name != "source"
          for g in (fields(f.default) if is_dataclass(f.default) else [None])]


def read_document(path: str) -> object:
    """The document as JSON values; ValueError (exit 2) when unreadable."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read policy document {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"policy document {path} is not valid JSON or YAML: {exc}".replace("\n", " ")) from None
    return json.loads(json.dumps(document, default=_yaml_scalar))  # YAML keys and dates as JSON has them


def read_world(path: str) -> dict:
    """The world's clusters (ids, tags, AZs, writers); its own `policies` are ignored."""
    try:
        world = yaml.safe_load(Path(path).read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise WorldError(f"cannot read world file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except yaml.YAMLError as exc:
        raise WorldError(f"world file {path} is not valid YAML/JSON: {exc}".replace("\n", " ")) from None
    if not isinstance(world, dict):
        raise WorldError("world: must be a mapping")
    return load_world({**json.loads(json.dumps(world, default=_yaml_scalar)), "policies": {}})


class _Raw:
    """The document's parts as written (safe on an invalid document)."""

    def __init__(self, document: object):
        document = document if isinstance(document, dict) else {}
        self.v2 = "policies" in document or "clusters" in document
        part = (lambda key: document.get(key) if isinstance(document.get(key), dict) else {})
        self.defaults = part("defaults")
        self.policies = part("policies")
        self.where = "policy.clusters" if self.v2 else "policy"
        self.entries = part("clusters") if self.v2 else {k: v for k, v in document.items() if k != "dsql_clusters"}
        self.by_id = {key.lower(): key for key in self.entries}

    def layers(self, cluster_id: str | None, tagged: str | None = None) -> tuple[str | None, list]:
        """(the policy name, [(set_by label, fields as written)], highest priority first)."""
        entry = self.entries.get(self.by_id.get(cluster_id, "")) if cluster_id else tagged
        if isinstance(entry, str):
            return entry, [(f"policy:{entry}", self.policies.get(entry, {})), ("defaults", self.defaults)]
        return None, [("cluster", entry or {}), ("defaults", self.defaults)]


def _set_in(raw: dict, field: str) -> bool:
    for part in field.split("."):
        if not isinstance(raw, dict) or part not in raw:
            return False
        raw = raw[part]
    return True


def _resolved(policy: ClusterPolicy, layers: list) -> dict:
    values = _as_dict(policy)
    leaves = _leaves(values)
    set_by = {}
    for field in FIELDS:
        label = next((label for label, raw in layers if _set_in(raw, field)), None)
        if label:
            set_by[field] = label
    return {"policy": values, "set_by": set_by, "differs": [f for f in FIELDS if leaves[f] != BUILT_IN[f]]}


def check(document: object, world: dict | None = None) -> dict:
    """The `--json` result: {"valid", "errors", "warnings", "clusters", "policies", ...}."""
    raw = _Raw(document)
    errors = document_errors(document)
    parses = not errors
    warnings = []
    result = {"valid": False, "version": 2 if raw.v2 else 1, "errors": errors, "warnings": warnings,
              "clusters": {}, "policies": {}}
    world_ids = {c["id"].lower() for c in (world or {}).get("clusters", [])}
    used = {entry for entry in raw.entries.values() if isinstance(entry, str)}
    for index, cluster in enumerate((world or {}).get("clusters", [])):
        tag = cluster["tags"].get(POLICY_TAG)
        where = f"world.clusters[{index}].tags.{POLICY_TAG}"
        if tag is None:
            continue
        named = raw.by_id.get(cluster["id"].lower())
        if named is not None:
            entry = raw.entries[named]
            if entry != tag:
                by = f"policy {entry}" if isinstance(entry, str) else "its own entry"
                warnings.append(f"{where}: the tag of cluster {cluster['id']} ({tag!r}) is ignored: "
                                f"{raw.where}.{named} wins ({by})")
        elif not raw.policies:  # then no run reads the tags (PolicyDocument.selects_by_tag)
            errors.append(f"{where}: names no policy {tag!r} (the document has no named policies, so tags are "
                          f"not read); cluster {cluster['id']} would not be managed (not-managed)")
        elif tag not in raw.policies:
            errors.append(f"{where}: names no policy {tag!r} (known: {', '.join(sorted(raw.policies))}); "
                          f"cluster {cluster['id']} would not be managed (unknown-policy)")
        else:
            used.add(tag)
    if world is not None:
        for key in raw.entries:
            if key.lower() not in world_ids:
                warnings.append(f"{raw.where}.{key}: matches no cluster of the world "
                                "(a typo leaves that cluster unmanaged)")
    for name in raw.policies:
        if name not in used and re.search(key_pattern("policies"), name):
            warnings.append(f"policy.policies.{name}: used by no cluster (no entry of policy.clusters names it, "
                            f"and no cluster of the world is tagged {POLICY_TAG}={name})" if world is not None else
                            f"policy.policies.{name}: no entry of policy.clusters names it; only clusters tagged "
                            f"{POLICY_TAG}={name} would use it (--world checks the tags)")
    if not parses:
        return result
    parsed = parse_document(document)
    result["valid"] = not errors
    if world is None:
        for cluster_id, policy in parsed.clusters.items():
            name, layers = raw.layers(cluster_id)
            result["clusters"][cluster_id] = {"source": "id", "entry": f"{raw.where}.{raw.by_id[cluster_id]}",
                                              "policy_name": name, **_resolved(policy, layers)}
    else:
        result["unmanaged"] = {}
        for cluster in world["clusters"]:
            policy, reason = parsed.resolve(cluster["id"], cluster["tags"])
            tag = cluster["tags"].get(POLICY_TAG)
            if policy is None:  # as a run reports it: without named policies no run reads the tag
                reason = reason if parsed.selects_by_tag else "not-managed"
                result["unmanaged"][cluster["id"]] = {"reason": reason, "tag": tag}
                continue
            key = raw.by_id.get(cluster["id"].lower())
            name, layers = raw.layers(cluster["id"].lower()) if key else raw.layers(None, tag)
            writer = next((i["class"] for i in cluster["instances"] if i["writer"]), None)
            result["clusters"][cluster["id"]] = {
                "source": "id" if key else "tag", "entry": f"{raw.where}.{key}" if key else f"{POLICY_TAG}={tag}",
                "policy_name": name, **_resolved(policy, layers),
                "cluster": {"writer_class": writer, "availability_zones": cluster["availability_zones"]}}
            if SERVERLESS_CLASS in (policy.instance_classes or ()) and not cluster.get("serverless_v2"):
                warnings.append(f"world.clusters[{world['clusters'].index(cluster)}]: the instance_classes of cluster "
                                f"{cluster['id']} hold {SERVERLESS_CLASS}, but it has no Serverless v2 scaling "
                                "configuration (serverless_v2); db.serverless is only for such clusters")
    for name, policy in parsed.policies.items():
        _, layers = raw.layers(None, name)
        result["policies"][name] = {**_resolved(policy, layers), "used_by": sorted(
            cid for cid, c in result["clusters"].items() if c["policy_name"] == name)}
    return result


def run(args) -> int:
    """The subcommand: exit 0 valid (warnings allowed), 1 invalid, 2 unreadable input."""
    try:
        document = read_document(args.document)
        world = read_world(args.world) if args.world else None
    except (ValueError, WorldError) as exc:
        sys.stderr.write(f"aurora-ops: {exc}\n")
        return 2
    result = check(document, world)
    for error in result["errors"]:
        sys.stderr.write(f"aurora-ops: error: {error}\n")
    for warning in result["warnings"]:
        sys.stderr.write(f"aurora-ops: warning: {warning}\n")
    print(json.dumps(result, indent=2) if args.json else render(result, FIELDS))
    return 0 if result["valid"] else EXIT_INVALID
