"""The world's change in full: the world before (the input world, loaded) against
the world after (the report's): clusters, instances, snapshots, locks, operation
records (the notifications the run published: render.py)."""

from __future__ import annotations

from .render_style import Style

_CLUSTER_FIELDS = ("status", "engine_version", "serverless_v2", "tags")
_INSTANCE_FIELDS = ("status", "class", "az", "writer", "promotion_tier", "tags")


def _clusters(world: dict) -> dict:
    return {(c.get("region") or world.get("region"), c["id"]): c for c in world.get("clusters", [])}


def _instances(world: dict) -> dict:
    return {(c.get("region") or world.get("region"), i["id"]): {**i, "cluster": c["id"]}
            for c in world.get("clusters", []) for i in c.get("instances", [])}


def _snapshots(world: dict) -> dict:
    return {(s.get("region") or world.get("region"), s["id"]): s for s in world.get("snapshots", [])}


def _changes(before: dict, after: dict, fields) -> list[str]:
    changed = []
    for field in fields:
        old, new = before.get(field), after.get(field)
        if old == new or (field == "tags" and not old and not new):
            continue
        if field == "tags":
            old, new = old or {}, new or {}
            parts = [f"+{k}={v}" for k, v in new.items() if k not in old]
            parts += [f"-{k}" for k in old if k not in new]
            parts += [f"{k}: {old[k]} -> {new[k]}" for k in old if k in new and old[k] != new[k]]
            changed.append("tags " + ", ".join(parts))
        elif field == "writer":
            changed.append(("reader -> writer" if new else "writer -> reader"))
        else:
            changed.append(f"{field} {old} -> {new}")
    return changed


def _role(instance: dict) -> str:
    return "writer" if instance.get("writer") else "reader"


_CREATES = {"CreateDBInstance": ("instance", "DBInstanceIdentifier"),
            "CreateDBCluster": ("cluster", "DBClusterIdentifier"),
            "RestoreDBClusterFromSnapshot": ("cluster", "DBClusterIdentifier"),
            "RestoreDBClusterToPointInTime": ("cluster", "DBClusterIdentifier"),
            "CopyDBClusterSnapshot": ("snapshot", "TargetDBClusterSnapshotIdentifier"),
            "CreateDBClusterSnapshot": ("snapshot", "DBClusterSnapshotIdentifier")}


def _transient(after: dict, calls: list[dict], style: Style) -> list[str]:
    """What the run created that the world after no longer has (a reader lost to a
    capacity shortage and deleted, a restore cleaned up, a copy deleted)."""
    home = after.get("region")
    present = {"instance": set(_instances(after)), "cluster": set(_clusters(after)),
               "snapshot": set(_snapshots(after))}
    lines = []
    for call in calls:
        kind, field = _CREATES.get(call["operation"], (None, None))
        name = (call.get("params") or {}).get(field)
        if kind and name and not call["error"] and (call.get("region") or home, name) not in present[kind]:
            region = call.get("region") or home
            lines.append(style.dim(f"  ± {kind} {name}{'' if region == home else f' [{region}]'}: "
                                   f"created and removed during the run"))
            present[kind].add((region, name))
    return lines


def _diff(kind: str, old_map: dict, new_map: dict, style: Style, where, added, removed, changed) -> list[str]:
    """`+`, `-` and `~` lines of one kind of resource, keyed by (region, id)."""
    lines = []
    for key in sorted(set(old_map) | set(new_map)):
        old, new = old_map.get(key), new_map.get(key)
        name = f"{kind} {key[1]}{where(key[0])}"
        if old is None:
            lines.append(style.green(f"  + {name}{added(new)}"))
        elif new is None:
            lines.append(style.red(f"  - {name}{removed(old)}"))
        elif change := changed(old, new):
            lines.append(style.yellow(f"  ~ {name}: {change}"))
    return lines


def world_lines(before: dict, after: dict, style: Style, calls: list[dict] | None = None) -> list[str]:
    home = after.get("region") or before.get("region")
    where = lambda region: "" if region == home else f" [{region}]"  # noqa: E731
    lines = _diff("cluster", _clusters(before), _clusters(after), style, where,
                  lambda c: f": {c.get('engine', '')} {c.get('engine_version', '')}, {c.get('status')}",
                  lambda c: "",
                  lambda old, new: "; ".join(_changes(old, new, _CLUSTER_FIELDS)))
    lines += _diff("instance", _instances(before), _instances(after), style, where,
                   lambda i: f": {i.get('class')} {i.get('az')} {_role(i)}, {i.get('status')} (cluster {i['cluster']})",
                   lambda i: f": {i.get('class')} {i.get('az')} {_role(i)} (cluster {i['cluster']})",
                   lambda old, new: "; ".join(_changes(old, new, _INSTANCE_FIELDS)))
    lines += _diff("snapshot", _snapshots(before), _snapshots(after), style, where,
                   lambda x: f": {x.get('type')} of {x.get('cluster')}, {x.get('status')}",
                   lambda x: f" (of {x.get('cluster')})",
                   lambda old, new: (f"status {old.get('status')} -> {new.get('status')}"
                                     if old.get("status") != new.get("status") else ""))
    lines += _records(before, after, style) + _transient(after, calls or [], style)
    return lines or ["  (no change)"]


def _records(before: dict, after: dict, style: Style) -> list[str]:
    """Locks taken or left, released; operation records written or changed."""
    lines = []
    lock = lambda x: (x.get("cluster"), x.get("owner"))  # noqa: E731
    old_locks = {lock(x): x for x in before.get("locks", [])}
    new_locks = {lock(x): x for x in after.get("locks", [])}
    for key in sorted(set(new_locks) - set(old_locks), key=str):
        x = new_locks[key]
        lines.append(style.red(f"  + lock on {key[0]} held by {key[1]} ({x.get('workflow')}, "
                               f"expires {x.get('expires_at')})"))
    for key in sorted(set(old_locks) - set(new_locks), key=str):
        lines.append(f"  - lock on {key[0]} held by {key[1]} (released)")
    old_ops = {o.get("id"): o for o in before.get("operations", [])}
    for op in after.get("operations", []):
        old = old_ops.get(op.get("id"))
        if old is None:
            lines.append(style.green(f"  + operation record {op.get('id')}: {op.get('status')}"))
        elif old.get("status") != op.get("status"):
            lines.append(style.yellow(f"  ~ operation record {op.get('id')}: status {old.get('status')} -> "
                                      f"{op.get('status')}"))
    return lines
