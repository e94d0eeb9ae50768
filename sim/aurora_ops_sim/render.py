"""The human-readable account of a simulation report: what happened when on the
simulated clock (render_timeline), the outcome and why (render_outcome), a
duplicate start, and the world's change with the notifications (render_world)."""

from __future__ import annotations

from datetime import datetime

from .render_outcome import failure_lines, outcome_lines, pretty
from .render_style import Style, readable_cause
from .render_timeline import duration, nested_line, timeline_lines
from .render_world import world_lines


def _status(status: str, style: Style) -> str:
    return style.green(status) if status == "SUCCEEDED" else style.red(status)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' * (n != 1)}"


def _offset(later: str | None, earlier: str | None) -> float:
    try:
        parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
        return (parse(later) - parse(earlier)).total_seconds()
    except (TypeError, ValueError, AttributeError):
        return 0.0


def _shifted(execution: dict, seconds: float) -> dict:
    """An execution's timeline and calls on another execution's clock."""
    return {**execution,
            "timeline": [{**e, "at": e["at"] + seconds} for e in execution.get("timeline") or []],
            "aws_calls": [{**c, "at": c.get("at", 0) + seconds} for c in execution.get("aws_calls") or []]}


def _execution(report: dict, style: Style, verbose: bool, title: str) -> list[str]:
    lines = [f"{title}: {_status(report['status'], style)}"]
    lines += failure_lines(report, style)
    counts = [_count(len(report.get("aws_calls") or []), "AWS call")]
    if "transitions" in report:
        counts = [_count(report["transitions"], "billed transition"),
                  _count(report.get("lambda_invocations", 0), "Lambda invocation")] + counts
    lines.append("  " + ", ".join(counts))
    if verbose and report.get("states"):
        lines.append("  states: " + " > ".join(report["states"]))
    return lines


def _notification_lines(notifications: list[dict], style: Style) -> list[str]:
    lines = [f"Notifications ({len(notifications)}):" if notifications else "Notifications: none"]
    for note in notifications:
        attributes = ", ".join(f"{k}={v}" for k, v in (note.get("attributes") or {}).items())
        lines.append(f"  {style.bold(note.get('subject') or '(no subject)')}" + (f"  [{attributes}]" if attributes else ""))
        message = note.get("message")
        if isinstance(message, dict):
            brief = {k: message[k] for k in ("action", "reason", "cluster_id", "instance_id", "error", "message")
                     if message.get(k) is not None}
            if brief:
                lines.append("    " + ", ".join(f"{k}: {readable_cause(v)}" for k, v in brief.items()))
            if isinstance(message.get("outcomes"), list):  # a fleet's summary
                lines += pretty([{k: o.get(k) for k in ("cluster_id", "action", "reason", "instance_id")}
                                 for o in message["outcomes"]], "    ")
        elif message:
            lines.append(f"    {str(message)[:200]}")
    return lines


def render(report: dict, world_before: dict, *, style: Style | None = None, verbose: bool = False) -> str:
    style = style or Style(False)
    name = report.get("execution_name", "")
    lines = _execution(report, style, verbose, f"{report['workflow']} execution {name}")
    lines += ["", f"Timeline (the simulated clock; T+0:00 is {report.get('started_at') or 'the start'}):"]
    lines += timeline_lines(report, style) or ["  (nothing ran)"]
    lines += [""] + outcome_lines(report, world_before, style)
    if report.get("nested_executions"):
        lines += ["", "Nested executions (each its own execution, billed on its own):"]
        for nested in report["nested_executions"]:
            lines.append(f"  {nested_line(nested, style)}, started by {nested.get('parent')} > "
                         f"{nested.get('parent_state')}")
            if nested.get("cause"):
                lines.append(f"    cause: {readable_cause(nested['cause'])}")
            if verbose and nested.get("states"):
                lines.append("    states: " + " > ".join(nested["states"]))
    duplicate = report.get("duplicate")
    if duplicate:
        offset = _offset(duplicate.get("started_at"), report.get("started_at"))
        shifted = {"workflow": report["workflow"], "nested_executions": report.get("nested_executions"),
                   **_shifted(duplicate, offset)}
        lines += ["", style.bold("Duplicate start") + " (the same input started again once the first ended, "
                  "as EventBridge redelivery and Express at-least-once starts do):"]
        lines += _execution(shifted, style, verbose, f"{report['workflow']} execution {duplicate['execution_name']}")
        if shifted.get("timeline"):
            lines += ["", f"Timeline (the same clock: it started at T+{duration(offset)}):"]
            lines += timeline_lines(shifted, style)
        lines += [""] + outcome_lines(shifted, world_before, style)
    lines += ["", "World changes" + (" (after both executions)" if duplicate else "") + ":"]
    calls = (report.get("aws_calls") or []) + ((duplicate or {}).get("aws_calls") or [])
    lines += world_lines(world_before, report["world"], style, calls)
    lines += [""] + _notification_lines(report.get("notifications") or [], style)
    seconds = report.get("simulated_seconds", 0)
    lines += ["", f"Simulated time: {seconds:.1f} s" if seconds < 60 else
              f"Simulated time: {seconds:.0f} s ({duration(seconds)})"]
    return "\n".join(lines)
