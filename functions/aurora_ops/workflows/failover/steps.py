"""Failover steps. Each takes the state machine's state and returns the next one;
statemachines/failover.asl.json decides what runs when.

Timestamps in the state are epoch seconds (floats) of the Lambda's clock; timings
are the differences, resolved to the poll interval (POLL_SECONDS)."""

from __future__ import annotations

import os

from ...aws import cloudwatch, locks, rds, rds_failover
from ...aws.reporting import report_operation
from ...core import clock
from ...core.errors import (AwsApiError, AwsUnavailable, FailoverFailed, FailoverTimeout, InvalidInput,
                            caught_error_message, execution_error_name)
from ...core.policy import deployed_document
from ...core.validation import validate
from .decisions import (LAG_WINDOW_MINUTES, check, drill_target, fingerprint, first_refusal, lag_gate, normalized,
                        opted_in, output)

INPUT_SCHEMA = (__package__, "input")
WORKFLOW = "failover"
POLL_SECONDS = 5  # while a failover is in progress: the timings' resolution
MAX_DRILL_POLLS = 180  # 15 minutes per leg; Aurora documents a failover in about a minute
MAX_GLOBAL_POLLS = 720  # an hour: a switchover waits for the secondaries to catch up
DUPLICATE_WINDOW_SECONDS = 600  # the same input again this soon is a duplicate start, not a new request


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


def _now() -> float:
    return clock.now().timestamp()


# --------------------------------------------------------------------------- prepare
def prepare(raw_input: object, execution_name: str) -> dict:
    """Validate, run every pre-check, choose the target and take the locks. Changes
    nothing in RDS; a refusal or a dry run takes no lock."""
    started = _now()
    validate(raw_input, INPUT_SCHEMA, InvalidInput, "input")
    request = normalized(raw_input)
    if request["trigger"] == "schedule" and os.environ.get("MODE", "act") == "observe":
        request["dry_run"] = request["observed"] = True  # observe mode: scheduled runs say what they would do
    state = {"execution_name": execution_name, "operation": request["operation"], "request": request,
             "started_at": started, "checks": [], "from": None, "to": None, "data_loss_window_seconds": None,
             "locks": [], "legs": [], "leg": 0, "fingerprint": fingerprint(request),
             "poll": {"wait_seconds": POLL_SECONDS, "count": 0,
                      "max": MAX_DRILL_POLLS if request["operation"] == "drill" else MAX_GLOBAL_POLLS}}
    drill = request["operation"] == "drill"
    state["history_key"] = f"cluster#{request['cluster_id']}" if drill else f"global#{request['global_cluster_id']}"
    _check_duplicate(state)
    members = _prepare_drill(state) if drill else _prepare_global(state)
    _check_locks(state, members)
    reason = first_refusal(state["checks"])
    state["reason"] = reason
    state["next"] = "refused" if reason else ("dry-run" if request["dry_run"] else "act")
    return state


def _prepare_drill(state: dict) -> list[str]:
    request = state["request"]
    cluster_id, region = request["cluster_id"], _region()
    cluster = rds.describe_cluster(cluster_id)
    policy, _ = deployed_document().resolve(cluster_id, cluster["tags"] if cluster else {})
    checks = state["checks"]
    checks.append(check("not-allowed", *opted_in("drill", cluster_id, policy.failover.allowed if policy else None,
                                                  cluster["tags"] if cluster else {})))
    checks.append(_available(cluster, cluster_id, region))
    instances = rds.describe_cluster_instances(cluster_id, cluster["writer_id"]) if cluster else []
    checks.append(check("no-instances", bool(instances) and bool(cluster and cluster["writer_id"]),
                        f"{cluster_id} has {len(instances)} instances"
                        + ("" if not cluster or cluster["writer_id"] else " and no writer")))
    target, detail = drill_target(instances, cluster["writer_id"] if cluster else None,
                                  request["target_instance_id"])
    checks.append(check("target-not-member" if request["target_instance_id"] else "no-failover-target",
                        target is not None, detail))
    state["data_loss_window_seconds"] = 0  # the instances share the cluster volume: nothing committed is lost
    if cluster and target:
        state["from"], state["to"] = cluster["writer_id"], target["instance_id"]
        legs = [{"kind": "drill", "cluster_id": cluster_id, "region": region, "target": state["to"],
                 "from": state["from"]}]
        if request["failback"]:
            legs.append({**legs[0], "kind": "failback", "target": state["from"], "from": state["to"]})
        state["legs"] = legs
    return [cluster_id]


def _available(cluster: dict | None, cluster_id: str, region: str) -> dict:
    if cluster is None:
        return check("not-available", False, f"{cluster_id} does not exist in {region} (or did not answer)")
    return check("not-available", cluster["status"] == "available", f"{cluster_id} is {cluster['status']}")


def _describe_member(member: dict, must_answer: bool) -> dict | None:
    """A member's cluster; for an unplanned failover, a region that does not answer
    (the impaired primary's) is tolerated: None."""
    try:
        return rds.describe_cluster(member["cluster_id"], member["region"])
    except (AwsUnavailable, AwsApiError):
        if must_answer:
            raise
        return None


def _prepare_global(state: dict) -> list[str]:
    request, operation, checks = state["request"], state["operation"], state["checks"]
    global_id = request["global_cluster_id"]
    found = rds_failover.describe_global_cluster(global_id, _region())
    if found is None:
        checks.append(check("not-available", False, f"global cluster {global_id} does not exist"))
        return []
    members = found["members"]
    primary = next((m for m in members if m["writer"]), None)
    secondaries = [m for m in members if not m["writer"]]
    planned = operation == "switchover"  # the others assume the primary's region is impaired
    clusters = {m["cluster_id"]: _describe_member(m, planned or m is not primary) for m in members}
    document = deployed_document()
    for member in members:
        cluster = clusters[member["cluster_id"]]
        policy, _ = document.resolve(member["cluster_id"], cluster["tags"] if cluster else None)
        checks.append(check("not-allowed", *opted_in(operation, member["cluster_id"],
                                                     policy.failover.allowed if policy else None,
                                                     cluster["tags"] if cluster else None)))
    checks.append(check("operation-in-progress", found["failover_state"] is None,
                        f"{global_id} is {found['status']}" + (
                            f", {found['failover_state']['status']} from {found['failover_state']['from']} to "
                            f"{found['failover_state']['to']}" if found["failover_state"] else "")))
    if planned:  # a switchover needs the global cluster itself available (not upgrading, say)
        checks.append(check("not-available", found["status"] == "available", f"{global_id} is {found['status']}"))
    target = request["target_cluster_id"]
    if operation != "switchover":
        candidates = [m for m in secondaries if target in (None, m["cluster_id"])]
        lags = {}
        for region in sorted({m["region"] for m in candidates}):  # one GetMetricData per region
            lags.update(cloudwatch.worst_rpo_lags([m["cluster_id"] for m in candidates if m["region"] == region],
                                                  region, clock.now(), LAG_WINDOW_MINUTES))
        target, lag, gate = lag_gate(lags, target, request["max_data_loss_seconds"])
        state["data_loss_window_seconds"] = lag
    else:
        state["data_loss_window_seconds"] = 0  # a switchover waits until the secondary has caught up
    member_ids = [m["cluster_id"] for m in members]
    if target is not None:  # none: no secondary had lag data to choose by (no-lag-data says so)
        is_primary = primary is not None and target == primary["cluster_id"]
        checks.append(check("target-not-member", target in member_ids and not is_primary,
                            f"{target} is " + ("the primary already" if is_primary else "a secondary"
                                               if target in member_ids
                                               else f"not a member of {global_id} ({', '.join(member_ids)})")))
    involved = members if planned else [m for m in members if m["cluster_id"] == target] or secondaries
    for member in involved:
        checks.append(_available(clusters[member["cluster_id"]], member["cluster_id"], member["region"]))
        cluster = clusters[member["cluster_id"]] or {"members": []}
        checks.append(check("no-instances", bool(cluster["members"]),
                            f"{member['cluster_id']} has {len(cluster['members'])} instances"))
    versions = {cid: c["engine_version"] for cid, c in clusters.items() if c}
    checks.append(check("engine-version-mismatch", len(set(versions.values())) <= 1,
                        ", ".join(f"{cid} {version}" for cid, version in sorted(versions.items()))))
    if planned:
        lagging = [f"{m['cluster_id']} is {m['synchronization']}" for m in secondaries
                   if m["synchronization"] != "connected"]
        checks.append(check("secondary-not-connected", not lagging,
                            "; ".join(lagging) or "every secondary is connected"))
    else:
        checks.extend(gate)
    if primary:
        state["from"] = primary["cluster_id"]
    if target in member_ids:
        state["to"] = target
        member = next(m for m in members if m["cluster_id"] == target)
        state["legs"] = [{"kind": operation, "global_cluster_id": found["global_cluster_id"], "target": target,
                          "target_arn": member["arn"], "region": member["region"], "from": state["from"]}]
    return member_ids


def _check_duplicate(state: dict) -> None:
    """The same input again within DUPLICATE_WINDOW_SECONDS of another execution
    completing it is an at-least-once start (a scheduler, a retrying client), not a
    new request. (While that execution runs, its locks refuse the second one; after
    a failure, running it again is a new attempt.)"""
    last = locks.last_completed(state["history_key"])
    duplicate = bool(last and last["owner"] != state["execution_name"] and last["fingerprint"] == state["fingerprint"]
                     and (clock.now() - last["at"]).total_seconds() < DUPLICATE_WINDOW_SECONDS)
    state["checks"].append(check(
        "duplicate-start", not duplicate,
        f"execution {last['owner']} completed this same input at {clock.iso(last['at'])}; run it again after "
        f"{DUPLICATE_WINDOW_SECONDS // 60} minutes" if duplicate else "no identical recent run"))


def _check_locks(state: dict, members: list[str]) -> None:
    """Each member's lock, taken only when every other check passed and this is not a dry run."""
    checks, me = state["checks"], state["execution_name"]
    if first_refusal(checks) or state["request"]["dry_run"]:
        holders = {cluster_id: locks.holder(cluster_id) for cluster_id in members}
        busy = {c: h for c, h in holders.items() if h and h != me}
    else:
        busy = {}
        for cluster_id in members:
            if locks.acquire(cluster_id, me, WORKFLOW) is None:
                state["locks"].append(cluster_id)
            else:
                busy[cluster_id] = locks.holder(cluster_id) or "another execution"
        if busy:
            _release(state)
    checks.append(check("locked", not busy, "; ".join(f"{c} is locked by {h}" for c, h in sorted(busy.items()))
                        or f"no other operation holds {', '.join(members) or 'the clusters'}"))


def _release(state: dict) -> None:
    for cluster_id in state["locks"]:
        locks.release(cluster_id, state["execution_name"])
    state["locks"] = []


# --------------------------------------------------------------------------- act
def start_operation(state: dict) -> dict:
    """Start the current leg, unless it is already under way or done (a retried
    invocation whose first try did call AWS)."""
    leg = state["legs"][state["leg"]]
    leg.setdefault("started_at", _now())
    kind = leg["kind"]
    if kind in ("drill", "failback"):
        cluster = _existing(leg["cluster_id"], leg["region"])
        if cluster["status"] != "failing-over" and cluster["writer_id"] != leg["target"]:
            rds_failover.failover_cluster(leg["cluster_id"], leg["target"], leg["region"])
    elif kind == "detach-and-promote":
        cluster = rds.describe_cluster(leg["target"], leg["region"])
        if cluster and cluster["global_cluster_id"]:
            rds_failover.remove_from_global_cluster(leg["global_cluster_id"], leg["target_arn"])
    else:
        found = rds_failover.describe_global_cluster(leg["global_cluster_id"], leg["region"])
        under_way = found["failover_state"] and found["failover_state"]["to"] == leg["target"]
        is_writer = any(m["writer"] for m in found["members"] if m["cluster_id"] == leg["target"])
        if not under_way and not is_writer:
            start = rds_failover.switchover_global_cluster if kind == "switchover" \
                else rds_failover.failover_global_cluster
            start(leg["global_cluster_id"], leg["target_arn"])
    state["poll"]["count"] = 0
    return state


def _existing(cluster_id: str, region: str) -> dict:
    cluster = rds.describe_cluster(cluster_id, region)
    if cluster is None:
        raise FailoverFailed(f"{cluster_id} no longer exists in {region}")
    return cluster


def check_progress(state: dict) -> dict:
    """One poll of the current leg: when the writer changed, when it was available.
    `next`: wait, next-leg or done. Bounded: FailoverTimeout after the poll limit."""
    leg, poll = state["legs"][state["leg"]], state["poll"]
    poll["count"] += 1
    now = _now()
    writer_is_target, settled = _observe(leg, poll["count"])
    if writer_is_target and leg.get("writer_changed_at") is None:
        leg["writer_changed_at"] = now
    if settled:
        leg["available_at"] = now
        more = state["leg"] + 1 < len(state["legs"])
        if more:
            state["leg"] += 1
        state["next"] = "next-leg" if more else "done"
        return state
    if poll["count"] >= poll["max"]:
        raise FailoverTimeout(f"{leg['kind']} to {leg['target']}: not settled after {poll['count']} polls "
                              f"({poll['count'] * poll['wait_seconds']} s); AWS may still be carrying it out: "
                              "look at the cluster before starting anything else")
    state["next"] = "wait"
    return state


def _observe(leg: dict, polls: int) -> tuple[bool, bool]:
    """(the target is the writer, the operation has settled) as AWS says now."""
    if leg["kind"] in ("drill", "failback"):
        cluster = _existing(leg["cluster_id"], leg["region"])
        writer = cluster["writer_id"]
        if cluster["status"] == "available" and writer not in (leg["target"], leg["from"]):
            raise FailoverFailed(f"{leg['cluster_id']}: Aurora promoted {writer}, not {leg['target']}")
        return writer == leg["target"], writer == leg["target"] and cluster["status"] == "available"
    cluster = _existing(leg["target"], leg["region"])
    if leg["kind"] == "detach-and-promote":
        has_writer = cluster["writer_id"] is not None
        return has_writer, has_writer and cluster["global_cluster_id"] is None and cluster["status"] == "available"
    found = rds_failover.describe_global_cluster(leg["global_cluster_id"], leg["region"])
    member = next((m for m in found["members"] if m["cluster_id"] == leg["target"]), None) if found else None
    if member is None:
        raise FailoverFailed(f"{leg['target']} is no longer a member of {leg['global_cluster_id']}")
    ended = found["failover_state"] is None and found["status"] == "available"
    if ended and not member["writer"] and polls > 1:
        raise FailoverFailed(f"{leg['global_cluster_id']}: the {leg['kind']} ended with {leg['target']} "
                             "still a secondary (AWS cancelled or rolled it back)")
    return member["writer"], ended and member["writer"] and cluster["status"] == "available"


# --------------------------------------------------------------------------- finish
def finish(state: dict) -> dict:
    """Every path ends here: release the locks, the output, metrics, a notification
    (completed, refused, failed). `failure` names the error a failed execution raises."""
    ended = _now()
    if state.get("rejected"):  # Prepare failed: nothing was started
        state = {**_rejected_state(state), "error": state["error"]}
    error = state.get("error")
    if error:
        name = execution_error_name(error.get("Error"), "FailoverFailed")
        result = output(state, "failed", name, ended, error=name,
                        message=caught_error_message(error.get("Cause")) or error.get("Error"))
    elif state["next"] == "refused":
        result = output(state, "refused", state["reason"], ended,
                        message=next(c["detail"] for c in state["checks"] if not c["ok"]))
    elif state["next"] == "dry-run":
        result = output(state, "dry-run", None, ended, message="every check passed; nothing was changed")
    else:
        result = output(state, "completed", None, ended, message=_summary(state))
    if result["outcome"] == "completed":
        locks.record_completed(state["history_key"], state["fingerprint"], state["execution_name"])
    _release(state)
    timings = {name: value for name, value in (
        ("WriterChangedAfterSeconds", result["timings"]["writer_changed_after_seconds"]),
        ("AvailableAfterSeconds", result["timings"]["available_after_seconds"]),
        ("DataLossWindowSeconds", result["data_loss_window_seconds"] if result["outcome"] == "completed" else None),
    ) if value is not None}
    request = state.get("request", {})
    subject = (f"aurora-ops failover: {result['operation']} {result['outcome']}"
               f"{' (' + result['reason'] + ')' if result['reason'] else ''}"
               f"{' (observe mode)' if request.get('observed') else ''} "
               f"{request.get('cluster_id') or request.get('global_cluster_id') or ''}")
    # Not for what changes nothing by design: a dry run you asked for (observe mode's
    # scheduled runs do notify, as `observed`), bad input, a duplicate of a notified run.
    notify = (not request.get("dry_run") or request.get("observed")) and result["error"] != "InvalidInput" \
        and result["reason"] != "duplicate-start"
    warnings = report_operation(WORKFLOW, result, subject, notify, timings)
    if warnings:
        result["warnings"] = warnings
    # The cause is the message, one line, as in every workflow; the whole outcome is in
    # the notification and in Finish's output in the execution's history.
    failure = {"error": result["error"], "cause": result["message"] or result["error"]} if result["error"] else None
    return {"outcome": result["outcome"], "output": result, "failure": failure}


def _rejected_state(state: dict) -> dict:
    """What is known when Prepare failed: the operation, if the input names one."""
    raw = state.get("input") if isinstance(state.get("input"), dict) else {}
    operation = raw.get("operation") if isinstance(raw.get("operation"), str) else None
    return {"operation": operation, "execution_name": state.get("execution_name"), "started_at": None, "locks": []}


def _summary(state: dict) -> str:
    legs = state["legs"]
    text = f"{state['operation']}: {state['from']} -> {state['to']}"
    first = legs[0]
    if first.get("available_at") is not None:
        text += f"; writes were possible again after at most {first['available_at'] - first['started_at']:.0f} s"
    if len(legs) > 1:
        text += f"; failed back to {legs[1]['target']}"
    return text
