"""Failover decisions (pure): which fields each operation takes, the drill's target,
the pre-checks, the data-loss gate, and the one output shape of every outcome.

Every check is named after the refusal it guards against: a failed check's name is
the outcome's `reason` (docs/failover.md lists them)."""

from __future__ import annotations

import hashlib
import json

from ...core.errors import InvalidInput
from ...core.instances import size_rank

OPERATIONS = ("drill", "switchover", "failover", "detach-and-promote")
GLOBAL_OPERATIONS = OPERATIONS[1:]
OPT_IN_TAG = "aurora-ops:failover"  # its value lists the operations IAM lets this stack run on the cluster
FIELDS = {
    "drill": {"cluster_id", "target_instance_id", "failback"},
    "switchover": {"global_cluster_id", "target_cluster_id"},
    "failover": {"global_cluster_id", "target_cluster_id", "max_data_loss_seconds"},
    "detach-and-promote": {"global_cluster_id", "target_cluster_id", "max_data_loss_seconds"},
}
COMMON_FIELDS = {"operation", "dry_run", "trigger", "reason"}
DEFAULT_MAX_DATA_LOSS_SECONDS = 30
LAG_WINDOW_MINUTES = 5  # the gate reads the worst RPO lag of this many minutes
OUTPUT_FIELDS = ("operation", "outcome", "reason", "from", "to", "checks", "timings", "data_loss_window_seconds",
                 "error", "message")
TIMING_FIELDS = ("writer_changed_after_seconds", "available_after_seconds", "total_seconds")


def normalized(raw: dict) -> dict:
    """The input with its defaults and identifiers in lowercase (as RDS stores them);
    a field of another operation is InvalidInput rather than silently ignored."""
    operation = raw["operation"]
    foreign = sorted(set(raw) - FIELDS[operation] - COMMON_FIELDS)
    if foreign:
        raise InvalidInput(f"input.{foreign[0]}: not a field of {operation} (its fields: "
                           f"{', '.join(sorted(FIELDS[operation] | COMMON_FIELDS))})")
    request = {"operation": operation, "dry_run": raw.get("dry_run", False), "trigger": raw.get("trigger")}
    for field in sorted(FIELDS[operation]):
        value = raw.get(field)
        request[field] = value.lower() if isinstance(value, str) else value
    if operation == "drill":
        request["failback"] = bool(raw.get("failback", False))
    if operation == "detach-and-promote" and request["max_data_loss_seconds"] is None:
        request["max_data_loss_seconds"] = DEFAULT_MAX_DATA_LOSS_SECONDS
    return request


def fingerprint(request: dict) -> str:
    """The same input gives the same fingerprint (a duplicate start is recognised by it)."""
    canonical = json.dumps({k: v for k, v in request.items() if k not in ("dry_run", "trigger", "observed")}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def check(name: str, ok: bool, detail: str) -> dict:
    return {"name": name, "ok": bool(ok), "detail": detail}


def first_refusal(checks: list[dict]) -> str | None:
    return next((c["name"] for c in checks if not c["ok"]), None)


def opted_in(operation: str, cluster_id: str, allowed: tuple[str, ...] | None, tags: dict | None) -> tuple[bool, str]:
    """Both opt-ins: the policy's failover.allowed, and the tag IAM checks (without
    it AWS would deny the call). `allowed` None: the cluster is not managed."""
    if allowed is None:
        return False, f"{cluster_id} is not managed by the policy document"
    if operation not in allowed:
        return False, f"{cluster_id}: failover.allowed {list(allowed)} does not include {operation}"
    tagged = (tags or {}).get(OPT_IN_TAG)
    if tags is not None and operation not in (tagged or "").split():
        return False, (f"{cluster_id}: the tag {OPT_IN_TAG} ({tagged!r}) does not list {operation}; "
                       "IAM lets this stack fail over only the clusters that carry it")
    return True, f"{cluster_id} allows {operation}"


def drill_target(instances: list[dict], writer_id: str | None, wanted: str | None) -> tuple[dict | None, str]:
    """The reader to fail over to: `wanted`, or the one Aurora would promote (lowest
    promotion tier, then largest class), preferring another AZ than the writer's."""
    writer = next((i for i in instances if i["instance_id"] == writer_id), None)
    readers = [i for i in instances if i["instance_id"] != writer_id]
    if wanted:
        chosen = next((i for i in readers if i["instance_id"] == wanted), None)
        if chosen is None:
            where = "is the writer" if wanted == writer_id else "is not an instance of the cluster"
            return None, f"{wanted} {where}"
        if chosen["status"] != "available":
            return None, f"{wanted} is {chosen['status']}"
        return chosen, f"{wanted} is an available reader"
    candidates = [i for i in readers if i["status"] == "available"]
    if not candidates:
        return None, "the cluster has no available reader to fail over to"
    writer_az = writer["availability_zone"] if writer else None

    def rank(instance: dict):
        tier = instance.get("promotion_tier")
        size = _size(instance["instance_class"])
        return (tier if tier is not None else 1, -size, instance["availability_zone"] == writer_az,
                instance["instance_id"])

    chosen = min(candidates, key=rank)
    return chosen, (f"{chosen['instance_id']} (tier {chosen.get('promotion_tier')}, {chosen['instance_class']}, "
                    f"{chosen['availability_zone']}) is the reader Aurora would promote")


def _size(instance_class: str) -> int:
    try:
        return size_rank(instance_class)
    except ValueError:  # db.serverless and unknown names: no size to compare
        return 0


def lag_gate(lags: dict[str, float | None], target: str | None, limit: float) -> tuple[str | None, float | None,
                                                                                        list[dict]]:
    """The data-loss gate: (target, its worst RPO lag in seconds, [no-lag-data,
    data-loss-above-limit checks]). Without a target, the secondary with the lowest lag."""
    if target is None:
        measured = {cluster: lag for cluster, lag in lags.items() if lag is not None}
        target = min(measured, key=lambda c: (measured[c], c)) if measured else None
        if target is None:
            names = ", ".join(sorted(lags)) or "none"
            return None, None, [check("no-lag-data", False, f"no AuroraGlobalDBRPOLag datapoint in the last "
                                      f"{LAG_WINDOW_MINUTES} minutes for any secondary ({names})"),
                                check("data-loss-above-limit", False, "no lag to compare with the limit")]
    lag = lags.get(target)
    if lag is None:
        return target, None, [check("no-lag-data", False, f"no AuroraGlobalDBRPOLag datapoint for {target} in the "
                                    f"last {LAG_WINDOW_MINUTES} minutes"),
                              check("data-loss-above-limit", False, "no lag to compare with the limit")]
    return target, lag, [
        check("no-lag-data", True, f"{target}: worst RPO lag of the last {LAG_WINDOW_MINUTES} minutes is {lag:g} s"),
        check("data-loss-above-limit", lag <= limit,
              f"{target} could lose up to {lag:g} s of committed writes; the limit is {limit:g} s"),
    ]


def seconds_between(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round(end - start, 1)


def leg_timings(leg: dict) -> dict:
    return {"writer_changed_after_seconds": seconds_between(leg.get("started_at"), leg.get("writer_changed_at")),
            "available_after_seconds": seconds_between(leg.get("started_at"), leg.get("available_at"))}


def output(state: dict, outcome: str, reason: str | None, ended_at: float, error: str | None = None,
           message: str | None = None) -> dict:
    """The one shape of every outcome (OUTPUT_FIELDS), from the state so far."""
    legs = state.get("legs") or []
    first = leg_timings(legs[0]) if legs else dict.fromkeys(TIMING_FIELDS[:2])
    timings = {**first, "total_seconds": seconds_between(state.get("started_at"), ended_at),
               "poll_interval_seconds": state.get("poll", {}).get("wait_seconds"),
               "failback": leg_timings(legs[1]) if len(legs) > 1 and "started_at" in legs[1] else None}
    result = {
        "operation": state.get("operation"),
        "outcome": outcome,
        "reason": reason,
        "from": state.get("from"),
        "to": state.get("to"),
        "checks": state.get("checks", []),
        "timings": timings,
        "data_loss_window_seconds": state.get("data_loss_window_seconds"),
        "error": error,
        "message": message,
    }
    for extra in ("global_cluster_id", "cluster_id", "dry_run", "observed"):
        if extra in state.get("request", {}):
            result[extra] = state["request"][extra]
    return result
