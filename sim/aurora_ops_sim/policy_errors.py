"""Every problem of a policy document, one line each, in document order.

The parser (aurora_ops.core.policy) stops at the first problem; here each entry
(`defaults`, each named policy, each cluster) is parsed on its own, so each bad entry
gets its line, naming the field as the parser does."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from aurora_ops.core.errors import InvalidPolicy
from aurora_ops.core.policy import parse_document


@cache
def key_pattern(part: str) -> str:
    """The schema's pattern for the names in `policies` or `clusters` (v1 keys: as `clusters`)."""
    schema = json.loads(resources.files("aurora_ops.core").joinpath("schemas/policy_v2.json").read_text())
    return schema["properties"][part]["propertyNames"]["pattern"]


def _piece(document: dict) -> list[str]:
    """The parser's error for a document holding one entry, or []."""
    try:
        parse_document(document)
    except InvalidPolicy as exc:
        return [str(exc)]
    return []


def _duplicates(keys, where: str) -> list[str]:
    seen, errors = {}, []
    for key in keys:
        if key.lower() in seen:
            errors.append(f"{where}.{key}: names the same cluster as {where}.{seen[key.lower()]} ({key.lower()})")
        seen.setdefault(key.lower(), key)
    return errors


def document_errors(document: object) -> list[str]:
    """Every problem of the document, one line each, in document order."""
    try:
        parse_document(document)
        return []
    except InvalidPolicy as exc:
        whole = str(exc)
    if not isinstance(document, dict):
        return [whole]
    document = dict(document)
    dsql = document.pop("dsql_clusters", [])
    errors = _piece({"dsql_clusters": dsql})
    if "policies" not in document and "clusters" not in document:  # v1: one entry at a time
        for key, entry in document.items():
            if not isinstance(key, str) or not re.search(key_pattern("clusters"), key):
                errors.append(f"policy.{key}: not a valid cluster identifier (must match {key_pattern('clusters')})")
            else:
                errors += _piece({key: entry})
        errors += _duplicates(document, "policy")
        return errors or [whole]
    for part, what in (("policies", "policy name"), ("clusters", "cluster identifier")):  # names first
        entries = document.get(part)
        if isinstance(entries, dict):
            bad = [key for key in entries if not re.search(key_pattern(part), key)]
            errors += [f"policy.{part}.{key}: not a valid {what} (must match {key_pattern(part)})" for key in bad]
            document[part] = {key: entry for key, entry in entries.items() if key not in bad}
    skeleton = {key: {} if key == "defaults" and isinstance(part, dict) else part for key, part in document.items()}
    for key in ("policies", "clusters"):  # each entry stands for itself below
        if isinstance(skeleton.get(key), dict):
            unique = {name.lower(): name for name in skeleton[key]}.values()  # duplicates: below, too
            skeleton[key] = {name: {} if isinstance(document[key][name], (dict, str)) else document[key][name]
                             for name in unique}
    structure = _piece(skeleton)  # the top level: unknown keys, wrong types
    if structure and (not structure[0].startswith(("policy.policies.", "policy.clusters.")) or
                      not all(isinstance(document.get(k, {}), dict) for k in ("defaults", "policies", "clusters"))):
        return errors + structure
    defaults = document.get("defaults", {})
    defaults_errors = _piece({"defaults": defaults, "policies": {}})
    errors += defaults_errors
    defaults = {} if defaults_errors else defaults
    names = document.get("policies", {})
    for name, entry in names.items():
        errors += _piece({"defaults": defaults, "policies": {name: entry}})
    for key, entry in document.get("clusters", {}).items():
        if isinstance(entry, str):
            if entry not in names:
                errors += _piece({"policies": {n: {} for n in names}, "clusters": {key: entry}})
        else:
            errors += _piece({"defaults": defaults, "clusters": {key: entry}})
    errors += _duplicates(document.get("clusters", {}), "policy.clusters")
    return errors or [whole]
