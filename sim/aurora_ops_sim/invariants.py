"""The six invariants a chaos run must keep (contract, "Chaos runs"), checked on
the world before, the report (with its duplicate) and the world after."""

from __future__ import annotations

import json
from collections import Counter

from aurora_ops.core.tags import CREATED_BY_TAG, OPERATION_TAG

STANDARD = {"scale-up", "snapshot-restore"}  # scale-down is Express: it may time out
_ID_PARAMS = ("DBInstanceIdentifier", "DBClusterIdentifier", "DBClusterSnapshotIdentifier")


def _executions(report: dict) -> list[dict]:
    """The first execution and its duplicate: name, status, output, cause, calls."""
    runs = [{"name": report["execution_name"], "status": report["status"], "output": report["output"],
             "cause": report["cause"], "aws_calls": report["aws_calls"]}]
    if report.get("duplicate"):
        duplicate = report["duplicate"]
        runs.append({"name": duplicate["execution_name"], "status": duplicate["status"],
                     "output": duplicate["output"], "cause": duplicate.get("cause"),
                     "aws_calls": duplicate["aws_calls"]})
    return runs


def _resources(world: dict) -> dict[str, dict]:
    """Every instance, cluster and snapshot by id: {kind, status, tags, cluster}."""
    found = {}
    for cluster in world["clusters"]:
        found[cluster["id"]] = {"kind": "cluster", "status": cluster["status"], "tags": cluster.get("tags", {}),
                                "cluster": cluster["id"]}
        for instance in cluster["instances"]:
            found[instance["id"]] = {"kind": "instance", "status": instance["status"], "tags": instance["tags"],
                                     "cluster": cluster["id"], "writer": instance["writer"]}
    for snapshot in world["snapshots"]:
        found[snapshot["id"]] = {"kind": "snapshot", "status": snapshot["status"],
                                 "tags": snapshot.get("tags", {}), "cluster": snapshot["cluster"]}
    return found


def check_invariants(workflow: str, execution_input, before: dict, report: dict) -> list[tuple[str, str]]:
    runs = _executions(report)
    nested = report.get("nested_executions") or []  # a child's resources and locks are the run's too
    names = {run["name"] for run in runs} | {child["execution_name"] for child in nested}
    then, now = _resources(before), _resources(report["world"])
    told = " ".join(json.dumps(run["output"]) + " " + str(run["cause"]) for run in runs)  # the top level's word
    violations = []

    # 1. nothing orphaned
    for resource_id, resource in now.items():
        ours = resource["tags"].get(CREATED_BY_TAG) in names
        if ours and resource["status"] not in ("deleting", "deleted") and resource_id not in told:
            violations.append(("nothing-orphaned", f"{resource['kind']} {resource_id} ({resource['status']}) "
                                                   "was created by the run and is not reported"))

    # 2. nothing foreign touched
    created_in_run = {c["params"].get(p) for run in runs for c in run["aws_calls"]
                      if c["operation"].startswith(("Create", "Restore", "Copy"))
                      for p in (*_ID_PARAMS, "TargetDBClusterSnapshotIdentifier")} - {None}
    for run in runs:
        for call in run["aws_calls"]:
            if call["service"] != "rds" or not call["operation"].startswith(("Delete", "Modify")):
                continue
            target = next((call["params"][p] for p in _ID_PARAMS if p in call["params"]), None)
            known = now.get(target) or then.get(target) or {}
            tagged = CREATED_BY_TAG in known.get("tags", {}) or (target in created_in_run and target not in then)
            restored_password = (call["operation"] == "ModifyDBCluster" and OPERATION_TAG in known.get("tags", {})
                                 and call["params"].get("ManageMasterUserPassword"))
            if not tagged and not restored_password:
                violations.append(("nothing-foreign-touched", f"{call['operation']} on {target}, "
                                                              "which this system did not create"))
    if workflow == "snapshot-restore" and isinstance(execution_input, dict):
        source = (execution_input.get("source") or {}).get("cluster_id")
        for resource_id, resource in then.items():
            if resource["cluster"] == source and now.get(resource_id) != resource:
                violations.append(("nothing-foreign-touched", f"the source's {resource['kind']} {resource_id} changed"))

    # 3. locks released
    for lock in report["world"]["locks"]:
        if lock["owner"] in names:
            violations.append(("locks-released", f"lock on {lock['cluster']} still held by {lock['owner']}"))

    # 4. the output tells the truth
    for run in runs:
        violations += [("output-truthful", detail) for detail in _untruths(workflow, run["output"], now)]

    # 5. bounded action
    if workflow == "scale-up":
        added = Counter(r["cluster"] for r in now.values() if r["kind"] == "instance"
                        and r["tags"].get(CREATED_BY_TAG) in names and r["status"] != "deleting")
        violations += [("bounded-action", f"{count} readers added to {cluster}")
                       for cluster, count in added.items() if count > 1]
    if workflow == "scale-down":
        for run in runs:
            removed = {c["params"]["DBInstanceIdentifier"] for c in run["aws_calls"]
                       if c["operation"] == "DeleteDBInstance" and not c["error"]}
            per_cluster = Counter(then[i]["cluster"] for i in removed if i in then)
            violations += [("bounded-action", f"{run['name']} removed {count} readers from {cluster}")
                           for cluster, count in per_cluster.items() if count > 1]

    if workflow == "failover":
        violations += _writer_changes(execution_input, before, report["world"], runs)

    # 6. it ends
    for run in runs:
        if run["status"] == "ABORTED" or (run["status"] == "TIMED_OUT" and workflow in STANDARD):
            violations.append(("it-ends", f"{run['name']} ended {run['status']}"))
    return violations


def _writers(world: dict) -> tuple[dict, dict]:
    """({cluster id: its writer instance or None}, {global cluster id: its primary or None})."""
    writers = {c["id"].lower(): next((i["id"] for i in c["instances"] if i["writer"] and i["status"] != "deleting"), None)
               for c in world["clusters"]}
    primaries = {g["id"].lower(): next((m for m in g["members"] if writers.get(m.lower())), None)
                 for g in world.get("global_clusters", [])}
    return writers, primaries


def _writer_changes(execution_input, before: dict, after: dict, runs: list[dict]) -> list[tuple[str, str]]:
    """A failover changes the writer at most once (twice with "failback": true), counted over
    the execution and its duplicate: each successful FailoverDBCluster changes its cluster's
    writer, each RemoveFromGlobalCluster gives the detached cluster one, each Switchover- or
    FailoverGlobalCluster changes the global cluster's primary; a change the worlds before
    and after show with no such call counts once."""
    limit = 2 if isinstance(execution_input, dict) and execution_input.get("failback") is True else 1
    changes: Counter = Counter()
    for run in runs:
        for call in run["aws_calls"]:
            params = call["params"]
            if call["service"] != "rds" or call["error"]:
                continue
            if call["operation"] == "FailoverDBCluster":
                changes[f"cluster {params['DBClusterIdentifier'].lower()}"] += 1
            elif call["operation"] == "RemoveFromGlobalCluster":
                changes[f"cluster {params['DbClusterIdentifier'].rsplit(':', 1)[-1].lower()}"] += 1
            elif call["operation"] in ("SwitchoverGlobalCluster", "FailoverGlobalCluster"):
                changes[f"global cluster {params['GlobalClusterIdentifier'].lower()}"] += 1
    (writers, primaries), (writers_after, primaries_after) = _writers(before), _writers(after)
    for kind, then, now in (("cluster", writers, writers_after), ("global cluster", primaries, primaries_after)):
        for resource_id, writer in then.items():
            if resource_id in now and now[resource_id] != writer and not changes[f"{kind} {resource_id}"]:
                changes[f"{kind} {resource_id}"] = 1
    return [("bounded-action", f"the writer of {what} changed {count} times (at most {limit})")
            for what, count in sorted(changes.items()) if count > limit]


def _untruths(workflow: str, output, now: dict) -> list[str]:
    if not isinstance(output, dict):
        return []
    problems = []
    if workflow == "scale-up" and output.get("action") == "created":
        instance = now.get(output["instance_id"])
        if not instance or instance["status"] != "available":
            problems.append(f"output says created {output['instance_id']}, world has "
                            f"{instance['status'] if instance else 'nothing'}")
    if workflow == "scale-down":
        for decision in output.get("decisions", []):
            instance = now.get(decision.get("instance_id"))
            if decision["action"] == "deleted" and instance and instance["status"] != "deleting":
                problems.append(f"output says deleted {decision['instance_id']}, world has {instance['status']}")
    if workflow == "snapshot-restore" and not output.get("dry_run") and "instances" in output:
        for listed in output["instances"]:
            instance = now.get(listed["instance_id"])
            if not instance or instance["status"] != "available":
                problems.append(f"output lists {listed['instance_id']}, world has "
                                f"{instance['status'] if instance else 'nothing'}")
    return problems
