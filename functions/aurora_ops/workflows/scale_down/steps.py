"""Scale-down steps: plan which clusters to evaluate, evaluate one cluster (and
remove at most one reader), then settle: wait for removals, report."""

from __future__ import annotations

import json
import os
from datetime import timedelta

from ...aws import cloudwatch, locks, rds
from ...aws.reporting import report
from ...core import clock
from ...core.errors import InvalidInput, caught_error_message, execution_error_name
from ...core.policy import deployed_policies
from ...core.tags import CREATED_BY_TAG
from ...core.validation import validate
from .decisions import choose_reader_to_remove, in_cooldown, load_verdict

INPUT_SCHEMA = (__package__, "input")
WORKFLOW = "scale-down"
LOCK_TTL_SECONDS = 600  # the Express workflow runs 5 minutes at most
DELETE_POLL_SECONDS = 30
MAX_DELETE_POLLS = 6  # checks, 5 waits of DELETE_POLL_SECONDS between: inside Express's 5 minutes
# Stop waiting for removals this long after the run started, whatever is left:
# Express ends executions at 300 s, and the last Settle (with its retries) must fit.
SETTLE_WAIT_LIMIT_SECONDS = 210


def decision(cluster_id: str, action: str, reason: str, instance_id: str | None = None, **extra) -> dict:
    return {"cluster_id": cluster_id, "action": action, "instance_id": instance_id, "reason": reason, **extra}


def plan(raw_input: object) -> dict:
    """Which clusters this execution evaluates."""
    validate(raw_input, INPUT_SCHEMA, InvalidInput, "input")
    dry_run = raw_input.get("dry_run", False)
    policies = deployed_policies()
    if "cluster_id" in raw_input:
        clusters = [raw_input["cluster_id"].lower()]  # as RDS stores it
    else:
        clusters = sorted(c for c, p in policies.items() if p.scale_down.enabled)
    return {"dry_run": dry_run, "started_at": clock.iso(clock.now()),
            "clusters": [{"cluster_id": c, "dry_run": dry_run} for c in clusters]}


def evaluate_cluster(cluster_id: str, dry_run: bool, execution_name: str) -> dict:
    """The decision for one cluster; deletes at most one reader."""
    policy = deployed_policies().get(cluster_id)
    if policy is None:
        return decision(cluster_id, "none", "not-managed")
    if not policy.scale_down.enabled:
        return decision(cluster_id, "none", "disabled")
    rules = policy.scale_down
    removal = locks.last_removal(cluster_id)
    if removal and removal["owner"] == execution_name:  # a retried invocation: this execution already chose
        return _complete_own_removal(cluster_id, removal["instance_id"], execution_name)
    cluster = rds.describe_cluster(cluster_id)
    if cluster is None:
        return decision(cluster_id, "none", "error", error="ClusterNotFound",
                        message=f"managed cluster {cluster_id} does not exist")
    if cluster["status"] != "available":
        return decision(cluster_id, "none", "cluster-not-available", message=f"cluster status is {cluster['status']}")
    instances = rds.describe_cluster_instances(cluster_id, cluster["writer_id"])
    if not any(i["writer"] for i in instances):
        return decision(cluster_id, "none", "cluster-not-available", message="the cluster has no writer")
    reader, reason, detail = choose_reader_to_remove(instances, policy.min_readers)
    if reader is None:
        return decision(cluster_id, "none", reason, message=detail)
    now = clock.now()
    if in_cooldown(instances, removal and removal["at"], now, rules.cooldown_minutes):
        return decision(cluster_id, "none", "cooldown")
    readers = [i["instance_id"] for i in instances if not i["writer"] and i["status"] == "available"]
    metrics_end = now - timedelta(seconds=int(os.environ.get("METRIC_DELAY_SECONDS", "0")))
    verdict = load_verdict(cloudwatch.instance_cpu(readers, metrics_end, rules.lookback_minutes),
                           rules.lookback_minutes, rules.cpu_threshold)
    if verdict:
        return decision(cluster_id, "none", verdict)
    instance_id = reader["instance_id"]
    if dry_run:
        if locks.holder(cluster_id):
            return decision(cluster_id, "none", "in-progress")
        return decision(cluster_id, "dry-run", "load-low", instance_id)
    refused = locks.acquire(cluster_id, execution_name, WORKFLOW, ttl=LOCK_TTL_SECONDS)
    if refused:
        return decision(cluster_id, "none", refused)
    try:
        changed = _changed_since_chosen(cluster_id, rds.describe_instance(instance_id))
        if changed:
            return decision(cluster_id, "none", changed, instance_id)
        # Recorded first: a retry after the delete must not pick a second reader.
        locks.record_removal(cluster_id, instance_id, execution_name)
        rds.delete_instance(instance_id)
    finally:
        # Held only while choosing and deleting: once the delete is issued the removal
        # record (and its cooldown) guards the cluster, so no later failure or timeout
        # of this execution can leave the lock behind.
        locks.release(cluster_id, execution_name)
    return decision(cluster_id, "deleted", "load-low", instance_id, pending=True)


def _complete_own_removal(cluster_id: str, instance_id: str, execution_name: str) -> dict:
    """This execution recorded a removal and its answer was lost: report it, and
    issue the delete again if it never happened."""
    try:
        instance = rds.describe_instance(instance_id)
        if instance is not None and instance["status"] != "deleting":
            changed = _changed_since_chosen(cluster_id, instance)
            if changed:
                return decision(cluster_id, "none", changed, instance_id)
            rds.delete_instance(instance_id)
    finally:
        locks.release(cluster_id, execution_name)
    return decision(cluster_id, "deleted", "load-low", instance_id, pending=True)


def _changed_since_chosen(cluster_id: str, instance: dict | None) -> str | None:
    """Right before deleting, with the instance just re-read: a failover, a removed
    tag or a vanished instance stops us."""
    if instance is None:
        return "instance-gone"
    if CREATED_BY_TAG not in instance["tags"]:
        return "no-longer-tagged"
    cluster = rds.describe_cluster(cluster_id)
    if cluster is None:
        return "cluster-gone"
    if cluster["writer_id"] == instance["instance_id"]:
        return "became-writer"
    return None


def settle(state: dict, execution_name: str) -> dict:
    """Wait (bounded in checks and in time) for removed readers to be gone; then
    release any lock a failed evaluation may have left, and report: metrics,
    notifications (best effort), the output."""
    decisions = [_from_caught_error(d) for d in state["decisions"]]
    polls = state.get("polls", 0) + 1
    for d in decisions:
        if d.get("pending") and rds.describe_instance(d["instance_id"]) is None:
            d["pending"] = False
    pending = [d for d in decisions if d.get("pending")]
    elapsed = (clock.now() - clock.parse(state["started_at"])).total_seconds()
    if pending and polls < MAX_DELETE_POLLS and elapsed + DELETE_POLL_SECONDS <= SETTLE_WAIT_LIMIT_SECONDS:
        return {"done": False, "decisions": decisions, "polls": polls, "wait_seconds": DELETE_POLL_SECONDS,
                "started_at": state["started_at"]}
    for d in pending:  # deletion is under way and cannot be undone; stop waiting
        d["pending"] = False
        d["message"] = f"still deleting after {polls} checks"
    for d in decisions:
        d.pop("pending", None)
        if d["reason"] == "error":  # the evaluation may have died holding the lock
            locks.release(d["cluster_id"], execution_name)
        action = "failed" if d["reason"] == "error" else d["action"]
        d.update(report(WORKFLOW, {**d, "action": action}))
    failed = [d for d in decisions if d["reason"] == "error"]
    output = {"decisions": decisions}
    return {"done": True, "failed": bool(failed), "output": output, "error": "ScaleDownFailed" if failed else None,
            "cause": json.dumps(output) if failed else None}


def _from_caught_error(d: dict) -> dict:
    """A Map iteration that failed arrives as {cluster_id, error: {Error, Cause}}."""
    if isinstance(d.get("error"), dict):
        caught = d["error"]
        return decision(d["cluster_id"], "none", "error", error=execution_error_name(caught.get("Error"), "Error"),
                        message=caught_error_message(caught.get("Cause")) or caught.get("Error"))
    return d
