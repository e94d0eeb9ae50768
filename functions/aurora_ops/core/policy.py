"""The policy document: which clusters are managed and how (pure).

Two forms (../shared/spec/simulator.md): v1, `{cluster_id: entry}`; v2, with
`defaults`, named `policies` and `clusters` (by id: a policy name or an entry),
plus selection by the cluster tag `aurora-ops:policy`. A document with neither
`policies` nor `clusters` at its top is v1. Fields resolve field by field: the
cluster's own entry or named policy, then `defaults`, then the built-in
defaults below."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, is_dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

from .errors import InvalidPolicy
from .instances import SERVERLESS_CLASS, size_rank
from .validation import core_schema, validate

POLICY_TAG = "aurora-ops:policy"  # a cluster carrying it is managed by the named policy
DEFAULT_DOCUMENT_FILE = "/opt/policy.json"  # policy/policy.json, deployed as the PolicyLayer (template.yaml)


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
class FailoverPolicy:
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestoreDrillPolicy:
    enabled: bool = False
    instance_class: str | None = None
    checks: tuple = ()


@dataclass(frozen=True)
class DrPolicy:
    max_snapshot_age_hours: float = 26
    max_drill_age_days: float = 8
    rpo_target_seconds: float = 30


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
    failover: FailoverPolicy = FailoverPolicy()
    restore_drill: RestoreDrillPolicy = RestoreDrillPolicy()
    dr: DrPolicy = DrPolicy()
    source: str = "cluster"  # where it came from: "cluster" (by id), "policy:<name>" (by name or tag)


@dataclass(frozen=True)
class PolicyDocument:
    clusters: dict[str, ClusterPolicy]  # by cluster id (lowercase), resolved
    policies: dict[str, ClusterPolicy] = field(default_factory=dict)  # by name, resolved (v2)
    dsql_clusters: tuple = ()
    version: int = 1

    def resolve(self, cluster_id: str, tags: dict | None = None) -> tuple[ClusterPolicy | None, str | None]:
        """(policy, None), or (None, why not managed): an entry in `clusters` wins
        over the `aurora-ops:policy` tag; a tag naming no policy is `unknown-policy`."""
        policy = self.clusters.get(cluster_id.lower())
        if policy is not None:
            return policy, None
        name = (tags or {}).get(POLICY_TAG)
        if name is None or not self.policies:  # no named policies: no selection by tag
            return None, "not-managed"
        if name not in self.policies:
            return None, "unknown-policy"
        return self.policies[name], None

    @property
    def selects_by_tag(self) -> bool:
        """Whether a cluster not named by id may still be managed (by its tag)."""
        return bool(self.policies)


def _build(cls, values: dict):
    """A (nested) policy dataclass from resolved values; lists become tuples."""
    kwargs = {}
    for f in fields(cls):
        if f.name not in values:
            continue
        value = values[f.name]
        default = getattr(cls(), f.name)
        if is_dataclass(default):
            value = _build(type(default), value)
        elif isinstance(value, list):
            value = tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in value) \
                if f.name == "checks" else tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def _merge(base: dict, override: dict) -> dict:
    """Field by field, nested objects included."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def _entry(values: dict, where: str, source: str) -> ClusterPolicy:
    validate(values, core_schema("policy_entry"), InvalidPolicy, where)
    for index, instance_class in enumerate(values.get("instance_classes", [])):
        if instance_class == SERVERLESS_CLASS:
            continue
        try:
            size_rank(instance_class)
        except ValueError:
            raise InvalidPolicy(f"{where}.instance_classes[{index}]: {instance_class} has no known instance size "
                                "(nano, micro, small, medium, large, xlarge, <N>xlarge or metal)") from None
    policy = _build(ClusterPolicy, {**values, "source": source})
    if policy.min_readers > policy.max_readers:
        raise InvalidPolicy(f"{where}.min_readers: {policy.min_readers} exceeds max_readers {policy.max_readers}")
    return policy


def parse_document(document: object) -> PolicyDocument:
    """Validate the whole document (either form) and resolve every policy."""
    if not isinstance(document, dict):
        raise InvalidPolicy("policy: must be an object")
    document = dict(document)
    dsql = document.pop("dsql_clusters", [])
    validate({"dsql_clusters": dsql}, core_schema("policy_v2"), InvalidPolicy, "policy")
    if "policies" not in document and "clusters" not in document:  # v1
        validate(document, core_schema("policy"), InvalidPolicy, "policy")
        clusters = {}
        for key, entry in document.items():
            _add(clusters, key, _entry(entry, f"policy.{key}", "cluster"), "policy")
        return PolicyDocument(clusters, dsql_clusters=tuple(json.dumps(d, sort_keys=True) for d in dsql))
    validate(document, core_schema("policy_v2"), InvalidPolicy, "policy")
    defaults = document.get("defaults", {})
    _entry(defaults, "policy.defaults", "defaults")
    policies = {name: _entry(_merge(defaults, entry), f"policy.policies.{name}", f"policy:{name}")
                for name, entry in document.get("policies", {}).items()}
    clusters = {}
    for key, entry in document.get("clusters", {}).items():
        if isinstance(entry, str):
            if entry not in policies:
                known = ", ".join(sorted(policies)) or "none"
                raise InvalidPolicy(f"policy.clusters.{key}: names no policy {entry!r} (known: {known})")
            _add(clusters, key, policies[entry], "policy.clusters")
        else:
            _add(clusters, key, _entry(_merge(defaults, entry), f"policy.clusters.{key}", "cluster"), "policy.clusters")
    return PolicyDocument(clusters, policies, tuple(json.dumps(d, sort_keys=True) for d in dsql), version=2)


def _add(clusters: dict, key: str, policy: ClusterPolicy, where: str) -> None:
    cluster_id = key.lower()  # RDS stores identifiers in lowercase; events may not
    if cluster_id in clusters:
        raise InvalidPolicy(f"{where}.{key}: names the same cluster as another key ({cluster_id})")
    clusters[cluster_id] = policy


def parse_policy_document(document: object) -> dict[str, ClusterPolicy]:
    """The clusters a document names by id, resolved (both forms)."""
    return parse_document(document).clusters


@cache
def _deployed(text: str) -> PolicyDocument:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InvalidPolicy(f"policy: not valid JSON ({exc})") from None
    return parse_document(document)


def deployed_document() -> PolicyDocument:
    """The stack's document: the PolicyDocument parameter (POLICY_DOCUMENT) when
    given, else the file the PolicyLayer carries (POLICY_DOCUMENT_FILE). Both are
    read without an API call; the parsed document is cached per container."""
    text = os.environ.get("POLICY_DOCUMENT", "").strip()
    return _deployed(text or _layer_file(os.environ.get("POLICY_DOCUMENT_FILE", DEFAULT_DOCUMENT_FILE)))


@cache
def _layer_file(path: str) -> str:
    """Read once per container: a layer's files never change while it runs."""
    file = Path(path)
    return file.read_text() if file.is_file() else "{}"


def deployed_policies() -> dict[str, ClusterPolicy]:
    """The clusters the deployed document names by id."""
    return deployed_document().clusters


def iam_list_mismatches(document: PolicyDocument, entries: list[str]) -> list[str]:
    """Where the clusters a document names by id and the stack's ManagedClusterIds
    (IAM's list; entries may use IAM wildcards) disagree: each would be an
    AccessDenied in a crunch, or a grant nothing uses. Tag-selected clusters need
    no entry: IAM lets the stack create readers in any cluster carrying the tag."""
    entries = [e for e in entries if e]
    problems = [f"policy.clusters.{c}: not in ManagedClusterIds (IAM would deny its readers)"
                for c in sorted(document.clusters) if not any(fnmatchcase(c, e) for e in entries)]
    problems += [f"ManagedClusterIds: {e} matches no cluster the policy document names"
                 for e in entries if not any(fnmatchcase(c, e) for c in document.clusters)]
    return problems
