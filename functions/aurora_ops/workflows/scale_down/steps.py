"""Scale-down steps: plan which clusters to evaluate, evaluate one cluster (and
remove at most one reader), then settle: wait for removals, report."""

from __future__ import annotations

import json
import os
from datetime import timedelta

from ...aws import cloudwatch, locks, rds
from ...aws.reporting import is_notable, notify_summary, record_metrics, report
from ...core import clock
from ...core.errors import (AuroraOpsError, AwsThrottled, AwsUnavailable, InvalidInput, caught_error_message,
                            execution_error_name)
from ...core.policy import POLICY_TAG, deployed_document
from ...core.tags import CREATED_BY_TAG
from ...core.validation import validate
from .decisions import choose_reader_to_remove, in_cooldown, load_evidence, load_verdict, readers_per_az

INPUT_SCHEMA = (__package__, "input")
WORKFLOW = "scale-down"
LOCK_TTL_SECONDS = 600  # the Express workflow runs 5 minutes at most
DELETE_POLL_SECONDS = 30
MAX_DELETE_POLLS = 6  # checks, 5 waits of DELETE_POLL_SECONDS between: inside Express's 5 minutes
# Stop waiting for removals this long after the run started, whatever is left:
# Express ends executions at 300 s, and the last Settle (with its retries) must fit.
SETTLE_WAIT_LIMIT_SECONDS = 210
MAX_SEPARATE_NOTIFICATIONS = 5  # more notable decisions in one run: one summary message


def decision(cluster_id: str, action: str, reason: str, instance_id: str | None = None, **extra) -> dict:
    return {"cluster_id": cluster_id, "action": action, "instance_id": instance_id, "reason": reason, **extra}


def plan(raw_input: object) -> dict:
    """Decide for every cluster with the fewest reads: the clusters and their tags
    in pages, the managed clusters' instances in filtered pages (their tags say
    which readers are ours), locks and removals in batches only for clusters with
    a reader that may go, and CPU of those clusters' readers in one GetMetricData
    per 500. Clusters whose reader may go are left to EvaluateCluster, which
    re-checks and deletes; every other decision is final here."""
    validate(raw_input, INPUT_SCHEMA, InvalidInput, "input")
    started = clock.now()  # cooldowns and the metric window are judged as of the run's start
    observed = observing(raw_input)
    dry_run = raw_input.get("dry_run", False) or observed
    document = deployed_document()
    asked = raw_input["cluster_id"].lower() if "cluster_id" in raw_input else None  # as RDS stores it
    if asked:
        cluster = rds.describe_cluster(asked)
        found = {asked: cluster} if cluster else {}
        targets = [asked]
    else:
        found = {c["cluster_id"]: c for c in rds.list_clusters()}
        tagged = {c for c, cluster in found.items() if POLICY_TAG in cluster["tags"]}
        targets = sorted(set(document.clusters) | tagged)
    decisions, candidates = {}, {}
    for cluster_id in targets:
        cluster = found.get(cluster_id)
        policy, unmanaged = document.resolve(cluster_id, cluster["tags"] if cluster else None)
        if policy is None:
            decisions[cluster_id] = decision(cluster_id, "none", unmanaged)
        elif not policy.scale_down.enabled:
            if asked:  # `{}` evaluates only the enabled clusters
                decisions[cluster_id] = decision(cluster_id, "none", "disabled")
        elif cluster is None:
            decisions[cluster_id] = decision(cluster_id, "none", "error", error="ClusterNotFound",
                                             message=f"managed cluster {cluster_id} does not exist")
        elif cluster["status"] != "available":
            decisions[cluster_id] = decision(cluster_id, "none", "cluster-not-available",
                                             message=f"cluster status is {cluster['status']}")
        else:  # its instances (in batches) tell whether a reader of ours may go; only then CPU
            candidates[cluster_id] = (cluster, policy)
    decisions.update(_decide_candidates(candidates, dry_run, started))
    if observed:
        for d in decisions.values():
            if d.get("action") == "dry-run":
                d["observed"] = True
    return {"dry_run": dry_run, "started_at": clock.iso(started),
            "decisions": [decisions[c] for c in sorted(decisions) if "remove" not in decisions[c]],
            "removals": [decisions[c]["remove"] for c in sorted(decisions) if "remove" in decisions[c]]}


def observing(raw_input: dict) -> bool:
    """Observe mode (the Mode parameter): the schedule's runs decide as dry runs
    (and notify what they would do); runs started by hand act as asked."""
    return os.environ.get("MODE", "act") == "observe" and raw_input.get("trigger") == "schedule"


def _decide_candidates(candidates: dict, dry_run: bool, now) -> dict:
    if not candidates:
        return {}
    instances = rds.instances_of_clusters({c: cluster["writer_id"] for c, (cluster, _) in candidates.items()})
    decisions, windows, chosen, removable = {}, {}, {}, {}
    for cluster_id, (cluster, policy) in candidates.items():
        mine = [i for i in instances if i["cluster_id"] == cluster_id]
        if not any(i["writer"] for i in mine):
            decisions[cluster_id] = decision(cluster_id, "none", "cluster-not-available",
                                             message="the cluster has no writer")
            continue
        reader, reason, detail = choose_reader_to_remove(
            mine, policy.min_readers, max_acu=(cluster.get("serverless_v2") or {}).get("max_acu"))
        per_az = readers_per_az(mine)  # evidence: the numbers behind the decision
        if reader is None:
            decisions[cluster_id] = decision(cluster_id, "none", reason, message=detail,
                                             evidence={"readers_per_az": per_az})
            continue
        removable[cluster_id] = (cluster, policy, mine, reader, per_az)
    # Locks and removal records only of the clusters with a reader that may go.
    states = locks.cluster_states(list(removable)) if removable else {}
    for cluster_id, (cluster, policy, mine, reader, per_az) in removable.items():
        removal = states[cluster_id]["removal"]
        if in_cooldown(mine, removal and removal["at"], now, policy.scale_down.cooldown_minutes):
            decisions[cluster_id] = decision(cluster_id, "none", "cooldown")
            continue
        readers = [i["instance_id"] for i in mine if not i["writer"] and i["status"] == "available"]
        windows.update(dict.fromkeys(readers, policy.scale_down.lookback_minutes))
        chosen[cluster_id] = (reader["instance_id"], readers, policy, per_az)
    series = _cpu(windows, {c: readers for c, (_, readers, _, _) in chosen.items()}, now)
    for cluster_id, (instance_id, readers, policy, per_az) in chosen.items():
        if isinstance(series.get(cluster_id), dict):  # its metric read failed
            decisions[cluster_id] = series[cluster_id]
            continue
        rules = policy.scale_down
        loads = {r: series[r] for r in readers}
        verdict = load_verdict(loads, rules.lookback_minutes, rules.cpu_threshold)
        evidence = {**load_evidence(loads, rules.lookback_minutes, rules.cpu_threshold), "readers_per_az": per_az}
        if verdict:
            decisions[cluster_id] = decision(cluster_id, "none", verdict, evidence=evidence)
        elif dry_run:
            decisions[cluster_id] = (decision(cluster_id, "none", "in-progress", evidence=evidence)
                                     if states[cluster_id]["holder"]
                                     else decision(cluster_id, "dry-run", "load-low", instance_id, evidence=evidence))
        else:  # the evidence rides with the removal; Settle puts it on the decision EvaluateCluster makes
            decisions[cluster_id] = {"remove": {"cluster_id": cluster_id, "instance_id": instance_id,
                                                "evidence": evidence}}
    return decisions


def _cpu(windows: dict[str, int], readers_by_cluster: dict[str, list[str]], now) -> dict:
    """CPU series by reader. A failed batch read (not throttling: that is retried
    whole) is read again cluster by cluster, so one cluster's failure becomes its
    own error decision and does not stop the others."""
    if not windows:
        return {}
    end = now - timedelta(seconds=int(os.environ.get("METRIC_DELAY_SECONDS", "0")))
    try:
        return cloudwatch.instance_cpu(windows, end)
    except (AwsThrottled, AwsUnavailable):
        raise
    except AuroraOpsError:
        series: dict = {}
        for cluster_id, readers in readers_by_cluster.items():
            try:
                series.update(cloudwatch.instance_cpu({r: windows[r] for r in readers}, end))
            except (AwsThrottled, AwsUnavailable):
                raise
            except AuroraOpsError as exc:
                series[cluster_id] = decision(cluster_id, "none", "error", error=type(exc).__name__,
                                              message=str(exc))
        return series


def evaluate_cluster(cluster_id: str, instance_id: str, execution_name: str) -> dict:
    """Remove the reader Plan chose, after re-checking under the cluster's lock."""
    removal = locks.last_removal(cluster_id)
    if removal and removal["owner"] == execution_name:  # a retried invocation: this execution already chose
        return _complete_own_removal(cluster_id, removal["instance_id"], execution_name)
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
        # Held only while checking and deleting: once the delete is issued the removal
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
    evidence = {r["cluster_id"]: r["evidence"] for r in state.get("removals", []) if "evidence" in r}
    removed = [_from_caught_error(d) for d in state.get("removed", [])]
    for d in removed:  # the numbers Plan chose the reader on
        if d["cluster_id"] in evidence:
            d.setdefault("evidence", evidence[d["cluster_id"]])
    merged = state["decisions"] + removed
    decisions = sorted(merged, key=lambda d: d["cluster_id"])
    polls = state.get("polls", 0) + 1
    waiting = [d["instance_id"] for d in decisions if d.get("pending")]
    if waiting:  # one filtered read (100 instances per call) however many are waiting
        still_there = rds.existing_instances(waiting)
        for d in decisions:
            if d.get("pending") and d["instance_id"] not in still_there:
                d["pending"] = False
    pending = [d for d in decisions if d.get("pending")]
    elapsed = (clock.now() - clock.parse(state["started_at"])).total_seconds()
    if pending and polls < MAX_DELETE_POLLS and elapsed + DELETE_POLL_SECONDS <= SETTLE_WAIT_LIMIT_SECONDS:
        return {"done": False, "decisions": decisions, "removed": [], "polls": polls,
                "wait_seconds": DELETE_POLL_SECONDS, "started_at": state["started_at"]}
    for d in pending:  # deletion is under way and cannot be undone; stop waiting
        d["pending"] = False
        d["message"] = f"still deleting after {polls} checks"
    outcomes = []
    for d in decisions:
        d.pop("pending", None)
        if d["reason"] == "error":  # the evaluation may have died holding the lock
            locks.release(d["cluster_id"], execution_name)
        outcomes.append({**d, "action": "failed" if d["reason"] == "error" else d["action"]})
    # A few changes: one message each, as every workflow; a fleet's many: one summary.
    separately = sum(1 for o in outcomes if is_notable(o)) <= MAX_SEPARATE_NOTIFICATIONS
    for d, outcome in zip(decisions, outcomes):
        d.update(report(WORKFLOW, outcome) if separately else _metrics_only(outcome))
    summary_warning = None if separately else notify_summary(WORKFLOW, outcomes)
    if summary_warning:
        for d, outcome in zip(decisions, outcomes):
            if is_notable(outcome):
                d.setdefault("warnings", []).append(summary_warning)
    failed = [d for d in decisions if d["reason"] == "error"]
    output = {"decisions": decisions}
    return {"done": True, "failed": bool(failed), "output": output, "error": "ScaleDownFailed" if failed else None,
            "cause": json.dumps(output) if failed else None}


def _metrics_only(outcome: dict) -> dict:
    warning = record_metrics(WORKFLOW, outcome)
    return {"warnings": [warning]} if warning else {}


def _from_caught_error(d: dict) -> dict:
    """A Map iteration that failed arrives as {cluster_id, error: {Error, Cause}}."""
    if isinstance(d.get("error"), dict):
        caught = d["error"]
        return decision(d["cluster_id"], "none", "error", error=execution_error_name(caught.get("Error"), "Error"),
                        message=caught_error_message(caught.get("Cause")) or caught.get("Error"))
    return d
