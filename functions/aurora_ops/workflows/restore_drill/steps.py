"""Restore-drill steps. Each takes the state machine's state and returns the next one;
statemachines/restore_drill.asl.json decides what runs when. The restore itself is
the snapshot-restore state machine, started as a nested execution: this wing only
plans it, queries what it made, and deletes what it made.

Timestamps in a drill are epoch seconds of the Lambda's clock."""

from __future__ import annotations

import json
import os

from ...aws import data_api, locks, rds, records
from ...aws.reporting import publish, report_drill
from ...core import clock
from ...core.errors import AuroraOpsError, AwsApiError, InvalidInput, caught_error_message, execution_error_name
from ...core.policy import deployed_document
from ...core.tags import CREATED_BY_TAG
from ...core.validation import validate
from .decisions import data_api_support, judge, outcome, scratch_class, scratch_cluster_id

INPUT_SCHEMA = (__package__, "input")
WORKFLOW = "restore-drill"
DRILL_TAG = "aurora-ops:restore-drill"  # on the scratch cluster: the drill execution that made it
LOCK_TTL_SECONDS = 24 * 3600  # a drill lock outlives the longest drill (the state machine's timeout)
RECENT_SECONDS = 3600  # a run for every enabled cluster skips one drilled this recently
CLEANUP_POLL_SECONDS, MAX_CLEANUP_POLLS = 30, 60  # deletes take minutes: up to 30


# The endpoint was just enabled, or the database is still starting (RDS Data API
# reference, ExecuteStatement errors; older SDKs say BadRequestException): retried.
NOT_READY = frozenset({"HttpEndpointNotEnabledException", "DatabaseUnavailableException"})


class DataApiNotReady(AuroraOpsError):
    """The HTTP endpoint was enabled a moment ago and does not answer yet: retried."""


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


def _now() -> float:
    return clock.now().timestamp()


# --------------------------------------------------------------------------- plan
def plan(raw_input: object, execution_name: str) -> dict:
    """Which clusters to drill, from which snapshot, into which scratch cluster and
    class, with which checks. Reads only."""
    validate(raw_input, INPUT_SCHEMA, InvalidInput, "input")
    request = {"cluster_id": None, "dry_run": False, **raw_input}
    observed = request.get("trigger") == "schedule" and os.environ.get("MODE", "act") == "observe"
    if observed:
        request["dry_run"] = True  # observe mode: a scheduled run only plans, and says what it would drill
    named = request["cluster_id"].lower() if request["cluster_id"] else None
    document = deployed_document()
    if named:
        found = rds.describe_cluster(named)
        clusters = [found] if found else []
        skipped = [] if found else [{"cluster_id": named, "reason": "not-found"}]
    else:
        clusters, skipped = rds.list_clusters(), []
    now = clock.now()
    recent = records.last_drills([c["cluster_id"] for c in clusters]) if not named else {}
    drills = []
    for cluster in clusters:
        cluster_id = cluster["cluster_id"]
        policy, why = document.resolve(cluster_id, cluster["tags"])
        if policy is None or cluster["tags"].get(CREATED_BY_TAG):  # unmanaged, or something this system made
            if named:
                skipped.append({"cluster_id": cluster_id, "reason": why or "created-by-aurora-ops"})
            continue
        if not named and not policy.restore_drill.enabled:
            continue
        last = recent.get(cluster_id)
        if last and (now - last["at"]).total_seconds() < RECENT_SECONDS:
            skipped.append({"cluster_id": cluster_id, "reason": "drilled-recently",
                            "detail": f"drilled at {clock.iso(last['at'])} by {last['execution']}"})
            continue
        drill = _plan_drill(cluster, policy, execution_name, now)
        (drills if "reason" not in drill else skipped).append(drill)
    return {"execution_name": execution_name, "dry_run": request["dry_run"], "observed": observed,
            "next": "done" if request["dry_run"] or not drills else "drill",
            "started_at": clock.iso(now), "drills": drills, "skipped": skipped}


def _plan_drill(cluster: dict, policy, execution_name: str, now) -> dict:
    cluster_id, region = cluster["cluster_id"], _region()
    available = [s for s in rds.cluster_snapshots(cluster_id) if s["status"] == "available" and s["created"]]
    if not available:
        return {"cluster_id": cluster_id, "reason": "no-snapshot", "detail": "no available snapshot to restore"}
    snapshot = max(available, key=lambda s: s["created"])
    writer_class = None
    if not policy.restore_drill.instance_class and not policy.instance_classes:
        writer = [i for i in rds.describe_cluster_instances(cluster_id, cluster["writer_id"]) if i["writer"]]
        writer_class = writer[0]["instance_class"] if writer else None
    instance_class = scratch_class(policy.restore_drill.instance_class, policy.instance_classes, writer_class)
    if instance_class is None:
        return {"cluster_id": cluster_id, "reason": "no-instance-class",
                "detail": "no restore_drill.instance_class, and no class to take from instance_classes or the "
                          "writer (db.serverless needs a capacity range a scratch cluster does not have)"}
    supported, support = data_api_support(snapshot["engine"] or cluster["engine"],
                                          snapshot["engine_version"] or cluster["engine_version"], region)
    scratch = scratch_cluster_id(cluster_id, now)
    return {
        "cluster_id": cluster_id, "region": region, "scratch_cluster_id": scratch, "instance_class": instance_class,
        "snapshot": {"snapshot_id": snapshot["snapshot_id"], "created": snapshot["created"],
                     "age_hours": round((now - clock.parse(snapshot["created"])).total_seconds() / 3600, 1)},
        "checks": [json.loads(check) for check in policy.restore_drill.checks],
        "data_api": {"supported": supported, "detail": support},
        # the nested snapshot-restore execution: its name is the created-by tag of all it makes
        "restore_execution_name": scratch,
        "restore_input": {
            "source": {"cluster_id": cluster_id, "snapshot": snapshot["snapshot_id"], "region": region},
            "target": {"cluster_id": scratch, "region": region,
                       "instances": [{"instance_class": instance_class, "count": 1}],
                       "tags": {DRILL_TAG: execution_name}},
            "options": {"delete_on_failure": True, "manage_master_password": True, "notify": False},
        },
    }


# --------------------------------------------------------------------------- one drill
def begin(state: dict) -> dict:
    """Stamp the start and take the cluster's drill lock (not the scale-up/scale-down
    lock: a drill only reads its source). Held by another run: this drill is skipped."""
    drill = state["drill"]
    drill.setdefault("started_at", _now())
    holder = locks.acquire(f"drill:{drill['cluster_id']}", state["execution_name"], WORKFLOW, ttl=LOCK_TTL_SECONDS)
    drill["next"] = "restore" if holder is None else "skip"
    if holder:
        drill["error"] = "another restore drill of this cluster is running"
    return state


def enable_data_api(state: dict) -> dict:
    """The restore is done: the cluster and its instance are available. Turn on the HTTP
    endpoint when there are checks the Data API can run."""
    drill = state["drill"]
    drill.setdefault("available_at", _now())
    checks = drill["checks"]
    if checks and not drill["data_api"]["supported"]:
        drill["checks"] = [{**c, "result": "skipped", "detail": drill["data_api"]["detail"]} for c in checks]
    elif checks:
        cluster = rds.describe_cluster(drill["scratch_cluster_id"], drill["region"])
        data_api.enable_http_endpoint(cluster["arn"], drill["region"])
        drill["next_check"] = 0
    drill["next"] = "check" if drill.get("next_check") == 0 else "cleanup"
    return state


def run_check(state: dict) -> dict:
    """One check through the Data API with the cluster's managed secret. A statement
    that runs out its 45 seconds is `timeout`; an SQL error is `error`."""
    drill = state["drill"]
    index = drill["next_check"]
    check = drill["checks"][index]
    cluster = rds.describe_cluster(drill["scratch_cluster_id"], drill["region"])
    try:
        answer = data_api.execute(cluster["arn"], cluster["master_user_secret_arn"], check["sql"],
                                  check.get("database"), drill["region"])
    except AuroraOpsError as exc:
        name, message = type(exc).__name__, str(exc)
        if name in NOT_READY or (name == "BadRequestException" and "HttpEndpoint" in message):
            raise DataApiNotReady(f"{name}: {message}") from exc
        if name not in ("StatementTimeoutException", "BadRequestException", "DatabaseErrorException"):
            raise
        check.update(result="timeout" if name == "StatementTimeoutException" else "error", detail=message)
    else:
        drill.setdefault("first_query_at", _now())
        passed, detail, got = judge(check, answer)
        check.update(result="passed" if passed else "failed", detail=detail, got=got)
    drill["next_check"] = index + 1
    drill["next"] = "check" if index + 1 < len(drill["checks"]) else "cleanup"
    return state


def cleanup(state: dict) -> dict:
    """Delete what the drill's restore made (its created-by tag), instance first, then the
    cluster, and wait (bounded) until it is gone. On every path, also after an error."""
    drill = state["drill"]
    _note_error(state)
    progress = drill.setdefault("cleanup", {"polls": 0, "deleted": [], "completed": False, "done": False})
    progress["wait_seconds"] = CLEANUP_POLL_SECONDS
    ours, region = drill["restore_execution_name"], drill["region"]
    cluster = rds.describe_cluster(drill["scratch_cluster_id"], region)
    if cluster is None or cluster["tags"].get(CREATED_BY_TAG) != ours:  # gone, or never made by this drill
        progress.update(completed=True, done=True)
        return state
    instances = [i for i in rds.describe_cluster_instances(cluster["cluster_id"], cluster["writer_id"], region)
                 if i["tags"].get(CREATED_BY_TAG) == ours]
    try:
        for instance in instances:
            if instance["status"] != "deleting":
                rds.delete_instance(instance["instance_id"], region)
                progress["deleted"].append(instance["instance_id"])
        if not instances and cluster["status"] != "deleting":
            rds.delete_cluster(cluster["cluster_id"], region)
            progress["deleted"].append(cluster["cluster_id"])
    except AwsApiError as exc:  # RDS refused for now (a state in transition): the next poll tries again
        progress["retried"] = progress.get("retried", 0) + 1
        progress["detail"] = f"{type(exc).__name__}: {exc}"
    progress["polls"] += 1
    if progress["polls"] >= MAX_CLEANUP_POLLS:
        progress["done"] = True
        progress["detail"] = f"{cluster['cluster_id']} still exists after {MAX_CLEANUP_POLLS} polls"
    return state


def _note_error(state: dict) -> None:
    """An error caught on the way here becomes the drill's error (once)."""
    for key in ("restore_error", "error", "cleanup_error"):
        caught = state.pop(key, None)
        if caught and not state["drill"].get("error"):
            name = execution_error_name(caught.get("Error"), "RestoreDrillFailed")
            state["drill"]["error"] = f"{name}: {_cause(caught.get('Cause'))}"


def _cause(cause: str | None) -> str:
    """A nested execution's failure carries its DescribeExecution answer: its own error and cause."""
    try:
        described = json.loads(cause or "")
    except ValueError:
        return caught_error_message(cause) or ""
    if isinstance(described, dict) and ("Error" in described or "Cause" in described):
        return f"snapshot-restore {described.get('Error')}: {described.get('Cause')}"
    return caught_error_message(cause) or ""


def record(state: dict) -> dict:
    """The drill's result: the state table (dr-readiness reads the last one that passed),
    metrics, a notification when it failed. The Map's result for this cluster."""
    _note_error(state)
    drill, me = state["drill"], state["execution_name"]
    if drill.get("next") == "skip":
        return {"cluster_id": drill["cluster_id"], "outcome": "skipped", "reason": "drill-in-progress",
                "message": drill["error"]}
    result, why = outcome(drill)
    started = drill["started_at"]
    cleanup_state = drill.get("cleanup", {})
    summary = {
        "cluster_id": drill["cluster_id"], "outcome": result, "message": why,
        "snapshot_id": drill["snapshot"]["snapshot_id"],
        "snapshot_age_hours": round((started - clock.parse(drill["snapshot"]["created"]).timestamp()) / 3600, 1),
        "scratch_cluster_id": drill["scratch_cluster_id"], "instance_class": drill["instance_class"],
        "seconds_to_available": _since(started, drill.get("available_at")),
        "seconds_to_first_query": _since(started, drill.get("first_query_at")),
        "checks": [{k: c.get(k) for k in ("sql", "expect", "result", "detail", "got")} for c in drill["checks"]],
        "cleanup_completed": bool(cleanup_state.get("completed")), "deleted": cleanup_state.get("deleted", []),
        "duration_seconds": _since(started, _now()),
    }
    records.record_drill(drill["cluster_id"], me, result == "passed", summary)
    locks.release(f"drill:{drill['cluster_id']}", me)
    warnings = report_drill(WORKFLOW, summary)
    if warnings:
        summary["warnings"] = warnings
    return summary


def _since(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round(end - start, 1)


# --------------------------------------------------------------------------- summary
def summarize(state: dict) -> dict:
    """The run's output: each drill's result and what was skipped; a failed Plan (bad
    input) fails the execution with the one-line message as its cause."""
    if state.get("rejected"):
        error = state["error"]
        name = execution_error_name(error.get("Error"), "RestoreDrillFailed")
        message = caught_error_message(error.get("Cause")) or error.get("Error")
        return {"outcome": "failed", "failure": {"error": name, "cause": message}}
    results = state.get("results") or []
    output = {"dry_run": state["dry_run"], "started_at": state["started_at"],
              "passed": sum(r["outcome"] == "passed" for r in results),
              "failed": sum(r["outcome"] == "failed" for r in results),
              "drills": results if not state["dry_run"] else state["drills"], "skipped": state["skipped"]}
    if state.get("observed"):
        output["observed"] = True
        warning = publish(WORKFLOW, f"aurora-ops {WORKFLOW}: would drill {len(state['drills'])} clusters "
                                    "(observe mode)", output, "dry-run")
        if warning:
            output["warnings"] = [warning]
    return {"outcome": "done", "output": output}
