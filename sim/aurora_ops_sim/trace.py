"""The execution history as a timeline on the simulated clock (the history's
timestamps are the simulated clock: see patches._event_timestamp): states entered,
each Task attempt (retries included) with the history id its AWS calls name,
failures, waits, Map iterations labelled by their item, and the end."""

from __future__ import annotations

import json
from datetime import datetime

# A Map item is labelled by the first of these keys it has (a cluster's
# removal, a restore's instance slot, an orderability check's class).
LABEL_KEYS = ("cluster_id", "name", "instance_id", "instance_class", "snapshot_id", "id", "region")
_ENDS = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED", "ExecutionTimedOut": "TIMED_OUT",
         "ExecutionAborted": "ABORTED"}
_MAP_ENDS = ("MapStateSucceeded", "MapStateFailed", "MapStateAborted", "MapStateExited")
_FAILURES = ("TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
             "TaskSubmitFailed", "TaskStartFailed", "LambdaFunctionScheduleFailed", "LambdaFunctionStartFailed")


def items_paths(definition: dict) -> dict[str, str]:
    """{Map state name: its ItemsPath}, nested Maps included."""
    found = {}

    def walk(states: dict) -> None:
        for name, state in states.items():
            if state.get("Type") == "Map":
                found[name] = state.get("ItemsPath", "$")
            for key in ("Iterator", "ItemProcessor"):
                if key in state:
                    walk(state[key].get("States", {}))
            for branch in state.get("Branches", []):
                walk(branch.get("States", {}))

    walk((definition or {}).get("States", {}))
    return found


def _select(document, path: str):
    """A plain `$.a.b` path; None for anything else."""
    if not isinstance(path, str) or not path.startswith("$"):
        return None
    for part in [p for p in path[1:].split(".") if p]:
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


def item_label(item, index: int) -> str:
    if isinstance(item, (str, int, float)) and not isinstance(item, bool):
        return str(item)
    if isinstance(item, dict):
        for key in LABEL_KEYS:
            if isinstance(item.get(key), (str, int)):
                return str(item[key])
    return f"#{index}"


def _details(event: dict) -> dict:
    return next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})


def _json(text):
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _seconds(stamp, start) -> float:
    if isinstance(stamp, str):
        stamp = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return round((stamp - start).total_seconds(), 3) if start is not None else 0.0


def timeline(events: list[dict], definition: dict | None = None) -> tuple[str | None, list[dict]]:
    """(the execution's start, ISO; the timeline). Each entry has `at` (seconds since
    the start), `event` and `iteration` (the Map iterations it runs in, `Map[item]`
    joined by ' / ', or None)."""
    paths = items_paths(definition or {})
    start = next((e["timestamp"] for e in events if e["type"] == "ExecutionStarted"), None)
    if isinstance(start, str):
        start = datetime.fromisoformat(start.replace("Z", "+00:00"))
    inherit: dict[int, tuple] = {}  # event id -> the iterations ((label, index) each) of the events after it
    items: dict[str, list] = {}  # Map state -> its items, as last entered
    maps: dict[str, tuple] = {}  # Map state -> the iterations it was last entered in
    states: dict[tuple, tuple] = {}  # iterations -> (state name, type, timeline entry) last entered there
    attempts: dict[tuple, int] = {}
    last_error: dict[tuple, str] = {}
    entries: list[dict] = []
    for event in sorted(events, key=lambda e: e["id"]):
        kind, details = event["type"], _details(event)
        ctx = inherit.get(event.get("previousEventId"), ())
        at = _seconds(event["timestamp"], start)
        if kind in _MAP_ENDS and maps:  # the Map's own events, wherever their previous event ran
            inside = [m for m, at_map in maps.items() if ctx[:len(at_map)] == at_map]
            if details.get("name") in maps or inside:
                ctx = maps[details.get("name")] if details.get("name") in maps else maps[
                    max(inside, key=lambda m: len(maps[m]))]
        label = " / ".join(shown for shown, _ in ctx) or None
        if kind == "MapIterationStarted":
            name, index = details.get("name"), details.get("index", 0)
            listed = items.get(name) or []
            item = listed[index] if isinstance(listed, list) and index < len(listed) else None
            # its previous event may be one of another iteration's: it runs where its Map state runs
            ctx = maps.get(name, ctx) + ((f"{name}[{item_label(item, index)}]", index),)
            entries.append({"at": at, "event": "iteration", "map": name, "index": index,
                            "iteration": " / ".join(shown for shown, _ in ctx)})
        elif kind.endswith("StateEntered"):
            name = details.get("name")
            entry = {"at": at, "event": "state", "state": name, "type": kind.removesuffix("StateEntered"),
                     "iteration": label}
            if kind == "MapStateEntered":
                listed = _select(_json(details.get("input")), paths.get(name, "$"))
                items[name] = listed if isinstance(listed, list) else []
                maps[name] = ctx
                entry["items"] = [item_label(item, i) for i, item in enumerate(items[name])]
            entries.append(entry)
            states[ctx] = (name, entry)
            attempts[ctx] = 0
        elif kind == "WaitStateExited" and ctx in states:
            states[ctx][1]["seconds"] = round(at - states[ctx][1]["at"], 3)
        elif kind == "TaskStarted" and ctx in states:
            attempts[ctx] += 1
            entry = {"at": at, "event": "task", "state": states[ctx][0], "attempt": attempts[ctx],
                     "id": event["id"], "iteration": label}
            if attempts[ctx] > 1:
                entry["after"] = last_error.get(ctx)
            entries.append(entry)
        elif kind in _FAILURES:
            last_error[ctx] = details.get("error")
            entries.append({"at": at, "event": "failed", "state": states.get(ctx, (None,))[0],
                            "error": details.get("error"), "cause": details.get("cause"), "iteration": label})
        elif kind in ("MapIterationFailed", "MapIterationAborted"):
            entries.append({"at": at, "event": "iteration-failed", "iteration": label,
                            "error": details.get("error"), "cause": details.get("cause")})
        elif kind in _ENDS:
            entries.append({"at": at, "event": "end", "status": _ENDS[kind], "error": details.get("error"),
                            "cause": details.get("cause"), "iteration": None})
        ended = kind in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted")
        inherit[event["id"]] = ctx[:-1] if ended else ctx
    return (start.isoformat().replace("+00:00", "Z") if start else None), entries


def tasks(entries: list[dict]) -> dict[int, dict]:
    """{history id of a Task attempt: its timeline entry}: what each AWS call's `task` names."""
    return {e["id"]: e for e in entries if e["event"] == "task"}


def last_values(events: list[dict], keys: tuple[str, ...]) -> dict:
    """{key: the object at the top of the state as a state last left it} for each key
    found: e.g. scale-up's `plan` (the candidates after the orderability checks,
    not_orderable, excluded_classes) and `outcome` (what Finish decided, failed runs too)."""
    found: dict = {}
    for event in sorted(events, key=lambda e: e["id"]):
        if event["type"].endswith("StateExited"):
            output = _json(_details(event).get("output"))
            if isinstance(output, dict):
                found.update({k: output[k] for k in keys if isinstance(output.get(k), dict)})
    return found
