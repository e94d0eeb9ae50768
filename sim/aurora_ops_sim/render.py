"""The human-readable account of a simulation report."""

from __future__ import annotations

import json


def _instances(world: dict) -> dict[str, tuple]:
    return {
        i["id"]: (c["id"], i["class"], i["az"], i["status"], "writer" if i["writer"] else "reader")
        for c in world["clusters"] for i in c["instances"]
    }


def render(report: dict, world_before: dict) -> str:
    lines = [f"{report['workflow']} execution {report.get('execution_name', '')}: {report['status']}"]
    if report["error"]:
        lines.append(f"  error: {report['error']}")
        lines.append(f"  cause: {report['cause']}")
    lines.append("")
    lines.append(f"States ({report['transitions']} billed transitions, {report['lambda_invocations']} Lambda invocations):")
    lines.append("  " + " > ".join(report["states"]))
    lines.append("")
    lines.append(f"AWS calls ({len(report['aws_calls'])}):")
    for call in report["aws_calls"]:
        params = call.get("params") or {}
        brief = {k: v for k, v in params.items() if k in (
            "DBClusterIdentifier", "DBInstanceIdentifier", "DBInstanceClass", "AvailabilityZone", "TopicArn")}
        result = f"  -> {call['error']}" if call["error"] else ""
        lines.append(f"  {call['service']}:{call['operation']} {json.dumps(brief) if brief else ''}{result}")
    lines.append("")
    lines.append("Outcome:")
    lines.append("  " + json.dumps(report["output"], indent=2).replace("\n", "\n  ") if report["output"] else "  (none)")
    before, after = _instances(world_before), _instances(report["world"])
    lines.append("")
    lines.append("World changes:")
    changes = []
    for instance_id in sorted(set(before) | set(after)):
        if instance_id not in before:
            changes.append(f"  + {instance_id} {' '.join(after[instance_id][1:])} (cluster {after[instance_id][0]})")
        elif instance_id not in after:
            changes.append(f"  - {instance_id} (cluster {before[instance_id][0]})")
        elif before[instance_id] != after[instance_id]:
            changes.append(f"  ~ {instance_id}: {before[instance_id][3]} -> {after[instance_id][3]}")
    lines.extend(changes or ["  (no change)"])
    lines.append(f"  simulated time: {report.get('simulated_seconds', 0):.0f} s")
    return "\n".join(lines)
