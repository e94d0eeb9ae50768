"""Scale-up steps. Each takes the state machine's state and returns the next one;
the state machine (statemachines/scale_up.asl.json) decides what runs when."""

from __future__ import annotations

import json
import os

from ...aws import locks, rds
from ...aws.reporting import report
from ...core import clock
from ...core.errors import OwnershipViolation, ReaderDeletionTimeout, caught_error_message, execution_error_name
from ...core.instances import CREATE_FAILED, serving_readers
from ...core.naming import reader_identifier
from ...core.outcome import make_outcome
from ...core.policy import deployed_document
from ...core.tags import CREATED_BY_TAG
from ...core.triggers import resolve_cluster
from ...shared.capacity import create_first_available
from .decisions import cooldown, excluded_classes, parse_request, plan_candidates, without_unlisted_monitoring

WORKFLOW = "scale-up"
FIRST_POLL_SECONDS = 300  # Aurora readers take 5+ minutes; polling sooner only costs transitions
POLL_SECONDS = 60
MAX_CREATE_POLLS = 35  # ~40 minutes, then the candidate counts as failed
DELETE_POLL_SECONDS = 30
MAX_DELETE_POLLS = 30  # 15 minutes
# Readers that were created but never became available take up to ~65 minutes
# each (create polls + delete polls); stop after this many so an execution
# always finishes, lock released, well inside the state machine's timeout.
MAX_LOST_READERS = 3


def _none(cluster_id: str | None, reason: str, message: str | None = None) -> dict:
    return make_outcome(action="none", reason=reason, cluster_id=cluster_id, message=message)


def prepare(raw_input: object, execution_name: str) -> dict:
    """Validate, resolve the cluster, apply the guards and plan the candidates.
    Reads only; nothing changes before the lock is taken in `reserve`."""
    request = parse_request(raw_input)
    if request["trigger"] != "manual" and os.environ.get("MODE", "act") == "observe":
        # Observe mode (the Mode parameter): what events and alarms start is a dry run.
        request.update(dry_run=True, observed=True)
    state = {"execution_name": execution_name, "started_at": clock.iso(clock.now()),
             "request": request, "outcome": None, "attempts": [], "lock_held": False}
    if request["ignore"]:  # e.g. our own failed create: the execution that made it handles it
        state["outcome"] = _none(request["cluster_id"], request["ignore"])
        return state
    document = deployed_document()
    cluster_id = request["cluster_id"]
    if request["instance_ids"]:  # an instance event, or an alarm on instance metrics: the instances' cluster
        instances = [rds.describe_instance(i) for i in request["instance_ids"]]
        if request["trigger"] == "rds-event" and instances[0] and CREATED_BY_TAG in instances[0]["tags"]:
            request["cluster_id"] = instances[0]["cluster_id"]  # about a reader this system created
            state["outcome"] = _none(request["cluster_id"], "own-request")
            return state
        cluster_id, unresolved = resolve_cluster(cluster_id, [i["cluster_id"] if i else None for i in instances],
                                                 request["cluster_hint"])
        request["cluster_id"] = cluster_id
        if unresolved:
            state["outcome"] = _none(cluster_id, unresolved)
            return state
    policy, unmanaged = document.resolve(cluster_id) if cluster_id else (None, "not-managed")
    # An unnamed cluster may still be managed by its aurora-ops:policy tag: one describe tells.
    cluster = rds.describe_cluster(cluster_id) if policy or (cluster_id and document.selects_by_tag) else None
    if cluster is not None and policy is None:
        policy, unmanaged = document.resolve(cluster_id, cluster["tags"])
    if cluster is None or policy is None:
        state["outcome"] = _none(cluster_id, unmanaged or "not-managed")
        return state
    if cluster["status"] != "available":
        state["outcome"] = _none(cluster_id, "cluster-not-available", f"cluster status is {cluster['status']}")
        return state
    instances = rds.describe_cluster_instances(cluster_id, cluster["writer_id"])
    writer = next((i for i in instances if i["writer"]), None)
    if writer is None:
        state["outcome"] = _none(cluster_id, "cluster-not-available", "the cluster has no writer")
        return state
    readers = serving_readers(instances)
    stale = cooldown(readers, _event_time(request), clock.now(), policy.scale_up.cooldown_minutes)
    if stale and (not request["event_id"] or request["dry_run"]):  # a dry run writes nothing, not even a lock
        state["outcome"] = _none(cluster_id, "cooldown", stale)
        return state
    if len(readers) >= policy.max_readers:
        state["outcome"] = _none(cluster_id, "max-readers",
                                 f"{len(readers)} readers, max_readers is {policy.max_readers}")
        return state
    max_acu = (cluster.get("serverless_v2") or {}).get("max_acu")
    candidates = plan_candidates(policy, writer["instance_class"], cluster["availability_zones"], readers,
                                 max_acu=max_acu)
    excluded = excluded_classes(policy, writer["instance_class"], max_acu=max_acu)
    settings, warning = without_unlisted_monitoring(writer["settings"], _monitoring_role_names())
    if warning:
        state["warnings"] = [warning]
    state["cluster"] = {
        "cluster_id": cluster_id,
        "engine": cluster["engine"],
        "engine_version": cluster["engine_version"],
        "writer_id": writer["instance_id"],
        "writer_class": writer["instance_class"],
        "settings": settings,
        "promotion_tier": policy.promotion_tier,
    }
    state["plan"] = {"candidates": candidates, "not_orderable": []}
    if excluded:  # classes of the policy that can't be readers here, and why
        state["plan"]["excluded_classes"] = excluded
    if stale:  # an event: Reserve tells a redelivery (duplicate-event) from a stale need (cooldown)
        state.update(stale=stale, orderability_checks=[])
        return state
    state["orderability_checks"] = [
        {"engine": cluster["engine"], "engine_version": cluster["engine_version"], "instance_class": c}
        for c in dict.fromkeys(c["instance_class"] for c in candidates)
    ]
    if not candidates:
        state["outcome"] = _none(cluster_id, "no-candidates",
                                 "no policy class fits: " + "; ".join(excluded.values())
                                 if excluded else "no candidate AZ in the cluster's subnet group")
    return state


def _monitoring_role_names() -> set[str]:
    """The Enhanced Monitoring roles IAM lets this stack pass (MonitoringRoleNames)."""
    return {name for name in os.environ.get("MONITORING_ROLE_NAMES", "").split(",") if name}


def _event_time(request: dict):
    try:
        return clock.parse(request["event_time"]) if request.get("event_time") else None
    except ValueError:  # an unreadable time says nothing about staleness
        return None


def check_orderable(check: dict) -> dict:
    azs = rds.orderable_azs(check["engine"], check["engine_version"], check["instance_class"])
    return {"instance_class": check["instance_class"], "availability_zones": azs}


def reserve(state: dict) -> dict:
    """Drop candidates that aren't orderable, stop here for a dry run, else take the lock."""
    if state.get("stale"):
        return _refuse_stale_event(state)
    orderable = {o["instance_class"]: set(o["availability_zones"]) for o in state.pop("orderability")}
    plan = state["plan"]
    plan["not_orderable"] = [c for c in plan["candidates"] if c["availability_zone"] not in orderable[c["instance_class"]]]
    plan["candidates"] = [c for c in plan["candidates"] if c["availability_zone"] in orderable[c["instance_class"]]]
    request, cluster_id = state["request"], state["cluster"]["cluster_id"]
    if request["dry_run"]:
        state["outcome"] = make_outcome(action="dry-run", reason="dry-run", cluster_id=cluster_id, plan=plan)
        return state
    refused = locks.acquire(cluster_id, state["execution_name"], WORKFLOW, request["event_id"])
    if refused:
        state["outcome"] = _none(cluster_id, refused)
        return state
    state.update(lock_held=True, next_candidate=0, current=None, failure=None)
    return state


def _refuse_stale_event(state: dict) -> dict:
    """A stale event ends `cooldown`, unless it was handled already: taking the lock
    records the event id, and an id recorded before is a redelivery (`duplicate-event`)."""
    state.pop("orderability", None)
    request, cluster_id = state["request"], state["cluster"]["cluster_id"]
    refused = locks.acquire(cluster_id, state["execution_name"], WORKFLOW, request["event_id"])
    if not refused:
        locks.release(cluster_id, state["execution_name"])
    state["outcome"] = _none(cluster_id, refused or "cooldown", None if refused else state["stale"])
    return state


def create_reader(state: dict) -> dict:
    """Create the next candidate; InsufficientDBInstanceCapacity moves on to the
    one after. All exhausted: state["failure"] is set (attempts kept in state)."""
    cluster = state["cluster"]
    adopted = _adopt_own_reader(state)
    if adopted is not None:  # a retry after a create whose answer was lost: that create counts
        return adopted
    lost = sum(1 for a in state["attempts"] if a["result"] != "insufficient-capacity")
    index = instance_id = None
    if lost < MAX_LOST_READERS:
        index, instance_id, attempts = create_first_available(
            state["plan"]["candidates"], state["next_candidate"],
            lambda i: reader_identifier(cluster["cluster_id"], state["execution_name"], i + 1),
            lambda new_id, candidate: rds.create_reader(
                instance_id=new_id, cluster_id=cluster["cluster_id"], engine=cluster["engine"],
                instance_class=candidate["instance_class"], availability_zone=candidate["availability_zone"],
                promotion_tier=cluster["promotion_tier"], settings=cluster["settings"],
                created_by=state["execution_name"]),
            state["execution_name"],
        )
        state["attempts"].extend(attempts)
    if index is not None:
        state["next_candidate"] = index + 1
        state["current"] = {**state["plan"]["candidates"][index], "instance_id": instance_id, "phase": "creating",
                            "polls": 0, "wait_seconds": FIRST_POLL_SECONDS}
        return state
    state["next_candidate"] = len(state["plan"]["candidates"])
    state["current"] = None
    if lost >= MAX_LOST_READERS:
        message = f"gave up after {lost} created readers never became available"
    else:
        message = f"all {len(state['attempts'])} candidates tried, none became available"
    if state["plan"]["not_orderable"]:
        message += f"; {len(state['plan']['not_orderable'])} candidates were not orderable"
    state["failure"] = {"error": "NoCapacityAvailable", "message": message}
    return state


def _adopt_own_reader(state: dict) -> dict | None:
    """A serving reader tagged as this execution's that the state does not know of:
    adopt it instead of creating another. Readers given up on are deleting or gone."""
    cluster, candidates = state["cluster"], state["plan"]["candidates"]
    instances = rds.describe_cluster_instances(cluster["cluster_id"], cluster["writer_id"])
    mine = {i["instance_id"] for i in serving_readers(instances)
            if i["tags"].get(CREATED_BY_TAG) == state["execution_name"]}
    for index in range(len(candidates)):
        instance_id = reader_identifier(cluster["cluster_id"], state["execution_name"], index + 1)
        if instance_id in mine:
            state["next_candidate"] = index + 1
            state["current"] = {**candidates[index], "instance_id": instance_id, "phase": "creating",
                                "polls": 0, "wait_seconds": FIRST_POLL_SECONDS}
            return state
    return None


def check_reader(state: dict) -> dict:
    current = state["current"]
    instance = rds.describe_instance(current["instance_id"])
    current["polls"] += 1
    current["wait_seconds"] = POLL_SECONDS
    if instance is None:  # deleted by someone else: try the next candidate
        state["attempts"].append(_attempt(current, "disappeared"))
        state["current"] = {"phase": "gone"}
    elif instance["status"] == "available":
        current["phase"] = "available"
        state["attempts"].append(_attempt(current, "available"))
    elif instance["status"] in CREATE_FAILED:
        current.update(phase="failed", failed_status=instance["status"])
    elif current["polls"] >= MAX_CREATE_POLLS:
        current.update(phase="failed", failed_status=f"still {instance['status']} after {current['polls']} polls")
    else:
        current["phase"] = "creating"
    return state


def _attempt(current: dict, result: str) -> dict:
    return {"instance_class": current["instance_class"], "availability_zone": current["availability_zone"],
            "result": result}


def delete_failed_reader(state: dict) -> dict:
    """Delete the reader this execution created that will never become available."""
    current = state["current"]
    instance = rds.describe_instance(current["instance_id"])
    status = current["failed_status"]
    result = "capacity-lost" if status == "insufficient-capacity" else f"failed: {status}"
    state["attempts"].append(_attempt(current, result))
    if instance is not None:
        if instance["tags"].get(CREATED_BY_TAG) != state["execution_name"]:
            raise OwnershipViolation(f"{current['instance_id']} is not tagged as created by this execution")
        if instance["status"] != "deleting":
            rds.delete_instance(current["instance_id"])
    current.update(phase="deleting", polls=0, wait_seconds=DELETE_POLL_SECONDS)
    return state


def check_deleted(state: dict) -> dict:
    current = state["current"]
    if rds.describe_instance(current["instance_id"]) is None:
        state["current"] = {"phase": "gone"}
        return state
    current["polls"] += 1
    if current["polls"] >= MAX_DELETE_POLLS:
        raise ReaderDeletionTimeout(f"{current['instance_id']} still exists after {current['polls']} polls")
    return state


def finish(state: dict, execution_name: str) -> dict:
    """Every path ends here: release the lock, build the outcome, report it."""
    outcome = _final_outcome(state)
    cluster_id = outcome["cluster_id"]
    if state.get("lock_held"):
        locks.release(cluster_id, execution_name)
    seconds = None
    if outcome["action"] == "created":
        seconds = (clock.now() - clock.parse(state["started_at"])).total_seconds()
    # reporting is best effort: what fails is listed, the outcome stays
    if (state.get("request") or {}).get("observed"):
        outcome["observed"] = True  # notified: what it would have done
    reported = report(WORKFLOW, outcome, {"SecondsToAvailable": seconds} if seconds is not None else None)
    warnings = state.get("warnings", []) + reported.get("warnings", [])
    if warnings:
        outcome["warnings"] = warnings
    failed = outcome["action"] == "failed"
    # Bad input or policy: the one-line message naming the field, as every workflow says it.
    rejected = outcome["error"] in ("InvalidInput", "InvalidPolicy")
    return {"outcome": outcome, "failed": failed, "error": outcome["error"],
            "cause": (outcome["message"] if rejected else json.dumps(outcome)) if failed else None}


def _final_outcome(state: dict) -> dict:
    cluster_id = (state.get("request") or {}).get("cluster_id")
    attempts = state.get("attempts", [])
    if state.get("error"):
        error = state["error"]
        return make_outcome(action="failed", reason="error", cluster_id=cluster_id, attempts=attempts,
                            instance_id=(state.get("current") or {}).get("instance_id"),
                            error=execution_error_name(error.get("Error"), "ScaleUpFailed"),
                            message=caught_error_message(error.get("Cause")) or error.get("Error"))
    if state.get("failure"):
        return make_outcome(action="failed", reason="no-capacity", cluster_id=cluster_id, attempts=attempts,
                            plan=state["plan"], error=state["failure"]["error"], message=state["failure"]["message"])
    if state.get("outcome"):
        return state["outcome"]
    current = state["current"]
    return make_outcome(action="created", reason=state["request"]["reason"], cluster_id=cluster_id,
                        instance_id=current["instance_id"], instance_class=current["instance_class"],
                        availability_zone=current["availability_zone"], attempts=attempts)
