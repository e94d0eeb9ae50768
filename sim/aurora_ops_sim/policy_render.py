"""The human-readable listing of `aurora-ops policy check` (policy_check.check's result):
one block per cluster, one line per field, `*` where a value differs from the built-in
default, and where it comes from (the cluster's own entry, a named policy, `defaults`)."""

from __future__ import annotations

import json

from aurora_ops.core.policy import POLICY_TAG

_WHEN_NONE = {"instance_classes": "the writer's class", "availability_zones": "the cluster's AZs",
              "restore_drill.instance_class": "the smallest class allowed"}
_UNMANAGED = {"not-managed": "no entry in the document, no {tag} tag",
              "unknown-policy": "tag {tag}={value} names no policy"}


def _get(values: dict, field: str):
    for part in field.split("."):
        values = values[part]
    return values


def _value(field: str, value, cluster: dict | None) -> str:
    if value is None:
        text = _WHEN_NONE.get(field, "none")
        seen = {"instance_classes": "writer_class", "availability_zones": "availability_zones"}.get(field)
        if cluster and seen and cluster.get(seen):
            shown = cluster[seen]
            text += f" ({', '.join(shown) if isinstance(shown, list) else shown})"
        return text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ("; " if field.endswith("checks") else ", ").join(
            json.dumps(v) if isinstance(v, dict) else str(v) for v in value) or "none"
    return str(value)


def _origin(label: str | None) -> str:
    if label is None:
        return ""
    return {"cluster": "own entry", "defaults": "defaults"}.get(label, label.replace("policy:", "policy ", 1))


def _block(title: str, resolved: dict, fields: list[str]) -> list[str]:
    rows = [(field, _value(field, _get(resolved["policy"], field), resolved.get("cluster")),
             _origin(resolved["set_by"].get(field)), "*" if field in resolved["differs"] else " ")
            for field in fields]
    width = max([len(value) for _, value, origin, _ in rows if origin] or [0])
    lines = [title]
    for field, value, origin, mark in rows:
        lines.append(f"  {mark} {field:<29} {value:<{width}}  {origin}".rstrip())
    return lines + [""]


def _title(cluster_id: str, cluster: dict) -> str:
    if cluster["source"] == "tag":
        return f"cluster {cluster_id}: by tag {cluster['entry']} -> policy {cluster['policy_name']}"
    if cluster["policy_name"]:
        return f"cluster {cluster_id}: by id ({cluster['entry']}) -> policy {cluster['policy_name']}"
    return f"cluster {cluster_id}: by id, its own entry ({cluster['entry']})"


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def render(result: dict, fields: list[str]) -> str:
    lines = []
    for cluster_id, cluster in result["clusters"].items():
        lines += _block(_title(cluster_id, cluster), cluster, fields)
    if "unmanaged" not in result:  # no world: what a tagged cluster would get
        for name, policy in result["policies"].items():
            named = f" (and by id: {', '.join(policy['used_by'])})" if policy["used_by"] else ""
            lines += _block(f"clusters tagged {POLICY_TAG}={name}{named} -> policy {name}", policy, fields)
    elif result["unmanaged"]:
        lines.append("not managed:")
        width = max(len(cluster_id) for cluster_id in result["unmanaged"])
        for cluster_id, why in result["unmanaged"].items():
            detail = _UNMANAGED.get(why["reason"], "").format(tag=POLICY_TAG, value=why["tag"])
            if why["reason"] == "not-managed" and why["tag"] is not None:
                detail = f"no entry in the document; it has no named policies, so the {POLICY_TAG} tag is not read"
            lines.append(f"  {cluster_id:<{width}}  {why['reason']} ({detail})")
        lines.append("")
    if result["valid"] and (result["clusters"] or result["policies"]):
        lines.append("* differs from the built-in default; last column: where the value comes from "
                     "(own entry, policy <name>, defaults), blank: built-in")
    counts = f"{_count(result['errors'], 'error')}, " if result["errors"] else ""
    warnings = counts + _count(result["warnings"], "warning") + (" (on stderr)" if counts or result["warnings"] else "")
    if not result["valid"]:
        lines.append(f"policy document (v{result['version']}): invalid; {warnings}")
    elif "unmanaged" in result:
        total = len(result["clusters"]) + len(result["unmanaged"])
        lines.append(f"policy document (v{result['version']}): valid; {len(result['clusters'])} of {total} "
                     f"world clusters managed; {warnings}")
    else:
        lines.append(f"policy document (v{result['version']}): valid; {len(result['clusters'])} clusters by id, "
                     f"{len(result['policies'])} named policies; {warnings}")
    return "\n".join(lines)
