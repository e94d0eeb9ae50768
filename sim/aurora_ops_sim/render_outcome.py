"""The outcome of an execution, readable: a failure's cause parsed, the outcome
(the output, or the outcome a failed run carries in its cause), the candidate
plan with why each candidate sits where it does and what each attempt gave, and
scale-down's decisions with the numbers behind them."""

from __future__ import annotations

import json

from .render_style import Style, parse_cause, readable_cause

_SHOWN_ELSEWHERE = ("attempts", "plan", "decisions", "action", "reason", "warnings", "message", "error")


def outcome_of(report: dict) -> tuple[object, str | None]:
    """(the outcome, where it came from): the output, or a failed run's cause when the cause is one."""
    if report.get("output") is not None:
        return report["output"], "output"
    cause = parse_cause(report.get("cause"))
    if isinstance(cause, dict) and "errorType" not in cause and "errorMessage" not in cause:
        return cause, "cause"
    if report.get("last_outcome"):
        return report["last_outcome"], "state"
    return None, None


def failure_lines(report: dict, style: Style) -> list[str]:
    """The error name and a readable cause: never the cause's JSON on one line."""
    if not report.get("error") and not report.get("cause"):
        return []
    lines = [f"  error: {style.red(report.get('error') or '(none)')}"]
    cause = parse_cause(report.get("cause"))
    if isinstance(cause, dict) and ("errorType" in cause or "errorMessage" in cause):
        lines.append(f"  cause: {cause.get('errorType', '')}: {readable_cause(cause)}")
    elif isinstance(cause, dict):
        message = readable_cause(cause)
        lines.append(f"  cause: {message + ' ' if message else ''}(the outcome below is the cause, in full)")
    elif cause:
        lines.append(f"  cause: {readable_cause(cause)}")
    elif report.get("status") == "TIMED_OUT" or report.get("error") == "States.Timeout":
        lines.append("  cause: (none: a timeout has an empty cause)")
    return lines


def table(header: list[str], rows: list[list[str]], indent: str = "    ") -> list[str]:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    render = lambda row: indent + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    return [render(header)] + [render(r) for r in rows]


def pretty(value, indent: str = "  ", skip=()) -> list[str]:
    """Nested data as indented lines; a list of flat objects as a table."""
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in skip or item is None or item == [] or item == {}:
                continue
            if isinstance(item, str) and item.startswith(("{", "[")) and not isinstance(parse_cause(item), str):
                item = parse_cause(item)  # JSON inside a message: shown as what it is
            if isinstance(item, (dict, list)):
                flat = isinstance(item, list) and all(isinstance(i, (str, int, float)) for i in item)
                if flat:
                    lines.append(f"{indent}{key}: {', '.join(map(_scalar, item))}")
                else:
                    lines.append(f"{indent}{key}:")
                    lines += pretty(item, indent + "  ")
            else:
                lines.append(f"{indent}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        if value and all(isinstance(i, dict) and all(not isinstance(v, (dict, list)) for v in i.values())
                         for i in value):
            header = list(dict.fromkeys(k for i in value for k in i))
            lines += table(header, [["" if i.get(k) is None else _scalar(i.get(k)) for k in header] for i in value],
                           indent)
        else:
            for item in value:
                sub = pretty(item, indent + "  ")
                lines += [f"{indent}- {sub[0].strip()}"] + sub[1:] if sub else [f"{indent}- {item}"]
    else:
        lines.append(f"{indent}{_scalar(value)}")
    return lines


def _scalar(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _policy(world: dict, cluster_id: str | None):
    try:
        from aurora_ops.core.policy import parse_document

        cluster = next((c for c in world.get("clusters", []) if c["id"] == cluster_id), None)
        return parse_document(world.get("policies", {})).resolve(cluster_id, (cluster or {}).get("tags"))[0]
    except Exception:  # noqa: BLE001 - an explanation never fails the account
        return None


def _readers_per_az(world: dict, cluster_id: str | None) -> dict[str, int]:
    from aurora_ops.core.instances import NOT_SERVING

    cluster = next((c for c in world.get("clusters", []) if c["id"] == cluster_id), None) or {}
    counts: dict[str, int] = {}
    for i in cluster.get("instances", []):
        if not i.get("writer") and i.get("status", "available") not in NOT_SERVING:
            counts[i.get("az")] = counts.get(i.get("az"), 0) + 1
    return counts


def plan_lines(outcome: dict, plan: dict | None, report: dict, world: dict, style: Style) -> list[str]:
    """The candidates in the order they are tried, why, and what each attempt gave."""
    plan = outcome.get("plan") or plan or {}
    candidates, attempts = plan.get("candidates") or [], outcome.get("attempts") or []
    if not candidates and not attempts:
        return []
    cluster_id = outcome.get("cluster_id")
    policy = _policy(world, cluster_id)
    per_az = _readers_per_az(world, cluster_id)
    classes = list((policy.instance_classes if policy and policy.instance_classes else None)
                   or dict.fromkeys(c["instance_class"] for c in candidates + attempts))
    strategy = policy.strategy if policy else "instance-priority"
    creates = [c for c in report.get("aws_calls", []) if c["operation"] == "CreateDBInstance"]
    results = {}
    for attempt in attempts:
        key = (attempt["instance_class"], attempt["availability_zone"])
        made = next((c for c in creates if (c["params"].get("DBInstanceClass"), c["params"].get("AvailabilityZone"))
                     == key), None)
        results[key] = attempt["result"] + (f" ({made['params'].get('DBInstanceIdentifier')})" if made else "")
    order = ("classes in the policy's order, each in every AZ" if strategy == "instance-priority"
             else "AZs in turn, each with every class in the policy's order")
    lines = [f"Plan ({strategy}: {order}; AZs with the fewest readers first, ties in the policy's order):"]
    rows, untried = [], "(dry run: not tried)" if outcome.get("action") == "dry-run" else "not tried"
    listed = candidates + [a for a in attempts if (a["instance_class"], a["availability_zone"])
                           not in {(c["instance_class"], c["availability_zone"]) for c in candidates}]
    for n, candidate in enumerate(listed, 1):
        cls, az = candidate["instance_class"], candidate["availability_zone"]
        rank = f"class {classes.index(cls) + 1} of {len(classes)}" if cls in classes else "class"
        readers = per_az.get(az, 0)
        rows.append([str(n), cls, az, f"{rank}; {readers} reader{'s' * (readers != 1)} in {az}",
                     results.get((cls, az), untried)])
    lines += table(["#", "class", "AZ", "why here", "result"], rows)
    for skipped in plan.get("not_orderable") or []:
        lines.append(f"    not orderable: {skipped['instance_class']} in {skipped['availability_zone']}")
    for cls, why in (plan.get("excluded_classes") or {}).items():
        lines.append(f"    excluded: {cls}: {why}")
    return lines


def _percent(value) -> str:
    return "no data" if value is None else f"{value:g} %"


def decision_lines(decisions: list[dict], style: Style) -> list[str]:
    """Scale-down's decisions, each with the numbers it was made on."""
    lines = [f"Decisions ({len(decisions)} cluster{'s' * (len(decisions) != 1)}):"]
    width = max([len(d["cluster_id"]) for d in decisions] + [0])
    for d in decisions:
        action = d["action"]
        shown = style.green(action) if action in ("deleted", "dry-run") else (
            style.red(action) if action == "failed" or d["reason"] == "error" else action)
        lines.append(f"  {d['cluster_id']:<{width}}  {shown} / {d['reason']}"
                     + (f"  {d['instance_id']}" if d.get("instance_id") else ""))
        for key in ("error", "message"):
            if d.get(key):
                lines.append(f"      {key}: {d[key]}")
        evidence = d.get("evidence") or {}
        if "readers_per_az" in evidence:
            azs = ", ".join(f"{az} {n}" for az, n in evidence["readers_per_az"].items()) or "none"
            lines.append(f"      readers per AZ: {azs}")
        if "peak_cpu" in evidence:
            threshold, minutes = evidence.get("threshold"), evidence.get("lookback_minutes")
            lines.append(f"      peak CPU over the last {minutes} min vs threshold {threshold:g} %:")
            readers = evidence["peak_cpu"]
            name_width = max(len(r) for r in readers) if readers else 0
            for reader, peak in readers.items():
                points = (evidence.get("datapoints") or {}).get(reader)
                verdict = ("no datapoints" if peak is None else
                           "below" if peak < threshold else style.yellow("not below"))
                short = f", {points} of {minutes} datapoints" if points is not None and points < (minutes or 0) else ""
                lines.append(f"        {reader:<{name_width}}  {_percent(peak):>7}  {verdict}{short}")
        for warning in d.get("warnings") or []:
            lines.append(f"      warning: {warning}")
    return lines


def outcome_lines(report: dict, world: dict, style: Style) -> list[str]:
    outcome, source = outcome_of(report)
    if outcome is None:
        return ["Outcome: (none: the execution ended without one)"]
    where = {"cause": " (from the cause)", "state": " (as the workflow's state last held it)"}.get(source, "")
    if not isinstance(outcome, dict):
        return [f"Outcome{where}:"] + pretty(outcome)
    if set(outcome) == {"decisions"} and isinstance(outcome["decisions"], list):  # scale-down's
        return [f"Outcome{where}: {len(outcome['decisions'])} decisions"] + decision_lines(outcome["decisions"], style)[1:]
    lines = []
    if "action" in outcome:
        action = outcome["action"]
        coloured = style.red(action) if action == "failed" else style.green(action) if action != "none" else action
        lines.append(f"Outcome{where}: {coloured}" + (f" ({outcome['reason']})" if outcome.get("reason") else ""))
    else:
        lines.append(f"Outcome{where}:")
    if outcome.get("error"):
        lines.append(f"  error: {style.red(outcome['error'])}")
    message = outcome.get("message")
    if isinstance(message, str) and isinstance(parse_cause(message), (dict, list)):
        lines += ["  message:"] + pretty(parse_cause(message), "    ")
    elif message:
        lines.append(f"  message: {message}")
    lines += pretty(outcome, skip=_SHOWN_ELSEWHERE)
    for warning in outcome.get("warnings") or []:
        lines.append(f"  warning: {style.yellow(warning)}")
    if isinstance(outcome.get("plan"), dict) and not (outcome["plan"].get("candidates") or outcome.get("attempts")):
        lines += ["  plan:"] + pretty(outcome["plan"], "    ")  # a restore's dry-run plan
    extra = plan_lines(outcome, report.get("plan"), report, world, style)
    if extra:
        lines += [""] + extra
    if isinstance(outcome.get("decisions"), list):
        lines += [""] + decision_lines(outcome["decisions"], style)
    return lines
