"""dr-readiness steps: Assess reads everything it needs in batches and runs every
check; Record writes each resource's state to the table and tells the changes.
statemachines/dr_readiness.asl.json decides what runs when. Nothing here changes
a cluster: the only writes are the state table's items and the notification.

A read in the stack's region that fails fails the run (the state machine retries
it first); a read in another region (a global secondary's, a DSQL peer's) that
fails makes the checks that need it `error`: a region that does not answer is a
finding about recovery, not a reason to learn nothing about the rest."""

from __future__ import annotations

import json
import os
from collections import defaultdict

from ...aws import cloudwatch, dsql, rds, rds_failover, readiness, records
from ...core import clock
from ...core.errors import (AuroraOpsError, InvalidInput, NotificationFailed, caught_error_message,
                            execution_error_name)
from ...core.policy import POLICY_TAG, deployed_document
from ...core.validation import validate
from .decisions import (LAG_WINDOW_MINUTES, change, cluster_checks, compact, dsql_checks, global_checks,
                        missing_cluster, pack, plan_writes, resource, subject, unpack)

INPUT_SCHEMA = (__package__, "input")
WORKFLOW = "dr-readiness"


def _home() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


def _in(region: str, read):
    """`read()` in `region`: its answer; in another region than the stack's, a failure
    is answered as its one-line message instead of raised."""
    if region == _home():
        return read()
    try:
        return read()
    except AuroraOpsError as exc:
        return f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------- assess
def assess(raw_input: object) -> dict:
    """Validate, read in batches, check every covered resource. `{}`: every cluster (by id
    or tag) and global cluster the policy covers and every DSQL cluster it names;
    `cluster_id`: the one resource with that id (a cluster with its global cluster)."""
    validate(raw_input, INPUT_SCHEMA, InvalidInput, "input")
    now, home = clock.now(), _home()
    document = deployed_document()
    asked = raw_input["cluster_id"].lower() if "cluster_id" in raw_input else None
    found = {c["cluster_id"]: c for c in rds.list_clusters()}
    covered = {}
    for cluster_id in sorted(set(document.clusters) | {c for c, x in found.items() if POLICY_TAG in x["tags"]}):
        policy, _ = document.resolve(cluster_id, found[cluster_id]["tags"] if cluster_id in found else None)
        if policy is not None:
            covered[cluster_id] = policy
    groups = rds_failover.list_global_clusters()
    member_of = {m["cluster_id"]: g["global_cluster_id"] for g in groups for m in g["members"]}
    # A cluster of another region is checked as a member of its global cluster.
    clusters = [c for c in covered if c in found or c not in member_of]
    groups = [g for g in groups if any(m["cluster_id"] in covered for m in g["members"])]
    targets = [(d["id"], d.get("region") or home) for d in map(json.loads, document.dsql_clusters)]
    if asked:
        clusters = [c for c in clusters if c == asked]
        groups = [g for g in groups if asked in (g["global_cluster_id"], *(m["cluster_id"] for m in g["members"]))]
        targets = [t for t in targets if t[0] == asked]
    resources = (_clusters(clusters, found, covered, now, home) + _global_clusters(groups, found, covered, now, home)
                 + _dsql_clusters(targets, home))
    state = {"dry_run": raw_input.get("dry_run", False), "started_at": clock.iso(now), "resources": pack(resources),
             "not_ready": [f"{r['kind']}#{r['id']}: {', '.join(r['failed'])}" for r in resources if not r["ready"]]}
    if asked and not resources:
        state["message"] = (f"{asked}: no cluster, global cluster or DSQL cluster the policy document covers "
                            "has this id; nothing was checked")
    return state


def _clusters(ids: list[str], found: dict, covered: dict, now, home: str) -> list[dict]:
    existing = [c for c in ids if c in found]
    if not existing:
        return [resource("cluster", c, home, missing_cluster(c, home)) for c in ids]
    by_cluster = defaultdict(list)
    for instance in rds.instances_of_clusters({c: found[c]["writer_id"] for c in existing}):
        by_cluster[instance["cluster_id"]].append(instance)
    snapshots = rds.newest_snapshots(existing)
    drilled = [c for c in existing if covered[c].restore_drill.enabled]
    drills = records.last_passed_drills(drilled) if drilled else {}
    return [resource("cluster", c, home, cluster_checks(found[c], by_cluster[c], snapshots.get(c), drills.get(c),
                                                        covered[c], now)
                     if c in found else missing_cluster(c, home)) for c in ids]


def _global_clusters(groups: list[dict], found: dict, covered: dict, now, home: str) -> list[dict]:
    """Each member described in its own region (one filtered call per region), each
    secondary's RPO lag read in its region (one GetMetricData per 500)."""
    if not groups:
        return []
    members = defaultdict(set)
    secondaries = defaultdict(set)
    for group in groups:
        for member in group["members"]:
            members[member["region"]].add(member["cluster_id"])
            if not member["writer"]:
                secondaries[member["region"]].add(member["cluster_id"])
    described: dict = {}
    for region, ids in sorted(members.items()):
        answer = {c: found.get(c) for c in ids} if region == home else \
            _in(region, lambda r=region, i=ids: rds.clusters_by_id(sorted(i), r))
        described.update({c: answer if isinstance(answer, str) else answer.get(c) for c in ids})
    lags: dict = {}
    for region, ids in sorted(secondaries.items()):
        answer = _in(region, lambda r=region, i=ids: cloudwatch.worst_rpo_lags(sorted(i), r, now, LAG_WINDOW_MINUTES))
        lags.update({c: answer if isinstance(answer, str) else answer.get(c) for c in ids})
    found_resources = []
    for group in groups:
        targets = [covered[m["cluster_id"]].dr.rpo_target_seconds for m in group["members"]
                   if m["cluster_id"] in covered]
        checks = global_checks(group, {m["cluster_id"]: described.get(m["cluster_id"]) for m in group["members"]},
                               lags, min(targets))
        found_resources.append(resource("global", group["global_cluster_id"], None, checks))
    return found_resources


def _dsql_clusters(targets: list[tuple[str, str]], home: str) -> list[dict]:
    """GetCluster of each DSQL cluster, then of each of its peers (each read once)."""
    answers: dict = {}

    def get(identifier: str, region: str):
        if (identifier, region) not in answers:
            answers[(identifier, region)] = _in(region, lambda: dsql.get_cluster(identifier, region))
        return answers[(identifier, region)]

    checked = []
    for dsql_id, region in targets:
        cluster = get(dsql_id, region)
        peers = {}
        if isinstance(cluster, dict):
            peers = {arn: get(dsql.arn_identifier(arn), dsql.arn_region(arn))
                     for arn in cluster["clusters"] if arn != cluster["arn"]}
        checked.append(resource("dsql", dsql_id, region, dsql_checks(dsql_id, region, cluster, peers)))
    return checked


# --------------------------------------------------------------------------- record
def record(state: dict, execution_name: str) -> dict:
    """Every path ends here: write each resource's state, tell the changes (once), the
    metrics, the output. A dry run writes and tells nothing. `failed`: the execution fails
    with `error` and `cause` (Assess failed: bad input, or AWS after retries)."""
    if "failure" in state:
        return _failed(state["failure"])
    resources, dry_run = unpack(state["resources"]), state["dry_run"]
    keys = [readiness.key(r["kind"], r["id"]) for r in resources]
    previous = readiness.read(keys) if resources else {}
    plans = plan_writes(resources, previous, keys, clock.iso(clock.now()))
    changes, claimed, skipped = [], [], []
    for plan in plans:
        if dry_run:
            if plan["notify"]:
                changes.append(change(plan["resource"]))
            continue
        if not readiness.write(plan["resource"], plan["since"], execution_name, plan["told"], plan["claim"]):
            skipped.append(plan["resource"]["id"])  # another execution recorded it first, and tells it
        elif plan["notify"]:
            claimed.append(plan)
            changes.append(change(plan["resource"]))
    if claimed:
        _tell(claimed, changes, execution_name)
    not_ready = sum(1 for r in resources if not r["ready"])
    warnings = [] if dry_run else [w for w in [readiness.record_metrics({
        "ResourcesNotReady": not_ready, "ResourcesReady": len(resources) - not_ready,
        "ReadinessChanges": len(changes)})] if w]
    output = {
        "ready": not_ready == 0,
        "dry_run": dry_run,
        "counts": {"resources": len(resources), "ready": len(resources) - not_ready, "not_ready": not_ready},
        "resources": [{**compact(p["resource"]), "since": p["since"]} for p in plans],
        "changes": changes,
    }
    if skipped:
        output["recorded_by_another_execution"] = skipped
    for optional in ("message",):
        if optional in state:
            output[optional] = state[optional]
    if warnings:
        output["warnings"] = warnings
    return {"failed": False, "output": output}


def _tell(claimed: list[dict], changes: list[dict], execution_name: str) -> None:
    """One message for the run's changes. When it cannot be sent, the claims are given back
    (the next run, or this step's retry, tells them) and the step fails."""
    try:
        readiness.publish(subject(changes), {"changes": changes, "execution": execution_name})
    except AuroraOpsError as exc:
        for plan in claimed:
            try:
                readiness.release(plan["resource"], plan["told"], execution_name)
            except AuroraOpsError:
                pass  # the change stays recorded as told; the output and the error say it was not
        ids = ", ".join(c["id"] for c in changes)
        raise NotificationFailed(f"readiness changes of {ids} not notified: {type(exc).__name__}: {exc}") from exc


def _failed(failure: dict) -> dict:
    """Assess failed: the execution fails with its error and the one-line message."""
    name = execution_error_name(failure.get("Error"), "DrReadinessFailed")
    message = " ".join((caught_error_message(failure.get("Cause")) or name).split())
    if name != "InvalidInput":
        readiness.record_metrics({"WorkflowFailures": 1})
    return {"failed": True, "error": name, "cause": message}
