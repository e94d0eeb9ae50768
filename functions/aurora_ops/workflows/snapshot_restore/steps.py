"""Snapshot-restore steps. Each takes the state machine's state and returns the
next one; statemachines/snapshot_restore.asl.json decides what runs when."""

from __future__ import annotations

import json
import os

from ...aws import rds, records
from ...aws.reporting import report
from ...core import clock
from ...core.errors import (CopyFailed, InvalidInput, NoCapacityAvailable, OwnershipViolation, RestoreFailed,
                            RestoreTimeout, SnapshotNotFound, TargetExists, aws_error_class, caught_error_message,
                            execution_error_name)
from ...core.instances import CREATE_FAILED
from ...core.policy import deployed_document
from ...core.tags import CREATED_BY_TAG, OPERATION_TAG
from ...core.validation import validate
from ...shared.capacity import create_first_available
from .decisions import (instance_slots, latest_snapshot, names_outside_pattern, operation_id, restore_candidates,
                        slot_instance_id)

INPUT_SCHEMA = (__package__, "input")
WORKFLOW = "snapshot-restore"
RESTORE_FAILED = frozenset({"failed", "incompatible-restore", "incompatible-parameters",
                            "inaccessible-encryption-credentials", "inaccessible-encryption-credentials-recoverable"})
COPY_POLL_SECONDS, MAX_COPY_POLLS = 300, 144  # copies can take hours: up to 12
CLUSTER_POLL_SECONDS, MAX_CLUSTER_POLLS = 60, 240  # up to 4 hours
INSTANCE_POLL_SECONDS, MAX_INSTANCE_POLLS = 60, 90
CLEANUP_POLL_SECONDS, MAX_CLEANUP_POLLS = 30, 60
MAX_INSTANCES = 16  # Aurora: one writer and up to 15 replicas per cluster


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


# --------------------------------------------------------------------------- prepare
def prepare(raw_input: object, execution_name: str) -> dict:
    """Validate, resolve the snapshot or point in time, check the target, plan.
    Reads only, except the operation record (not for a dry run)."""
    validate(raw_input, INPUT_SCHEMA, InvalidInput, "input")
    source = {"snapshot": "latest", "restore_time": None, "region": _region(), **raw_input["source"]}
    source["cluster_id"] = source["cluster_id"].lower()  # identifiers as RDS stores them
    if source["snapshot"] is None:  # null: not given (a point-in-time request may say so)
        source["snapshot"] = "latest"
    if source["snapshot"].startswith("arn:"):  # arn:aws:rds:REGION:ACCOUNT:cluster-snapshot:NAME
        arn_region = source["snapshot"].split(":")[3]
        if raw_input["source"].get("region") not in (None, arn_region):
            raise InvalidInput(f"input.source.region: {raw_input['source']['region']} contradicts the snapshot "
                               f"ARN, which is in {arn_region}")
        source["region"] = arn_region
    target = {"region": source["region"], "kms_key_id": None, "db_subnet_group": None, "vpc_security_group_ids": [],
              "db_cluster_parameter_group": None, "tags": {}, **raw_input["target"]}
    target["cluster_id"] = target["cluster_id"].lower()
    target["instances"] = [{"availability_zone": None, "count": 1, "promotion_tier": 1, **spec}
                           for spec in target["instances"]]
    total = sum(spec["count"] for spec in target["instances"])
    if total > MAX_INSTANCES:
        raise InvalidInput(f"input.target.instances: {total} instances; an Aurora cluster has at most "
                           f"{MAX_INSTANCES} (1 writer and 15 readers)")
    pattern = os.environ.get("RESTORE_TARGET_PATTERN", "*")
    outside = names_outside_pattern(pattern, target["cluster_id"], instance_slots(target["cluster_id"], target["instances"]))
    if outside:
        raise InvalidInput(f"input.target.cluster_id: {outside[0]} does not match the stack's RestoreTargetPattern "
                           f"{pattern!r} (the only names it may create and later clean up)")
    # From the request with its defaults spelled out, before anything is resolved:
    # the same request, however it is written, resumes the same operation.
    op_id = operation_id(source, target)
    options = {"delete_on_failure": True, "manage_master_password": True, "dry_run": False, "notify": True,
               **raw_input.get("options", {})}
    if target["cluster_id"] == source["cluster_id"] and target["region"] == source["region"]:
        raise TargetExists(f"target {target['cluster_id']} is the source cluster")
    if source["restore_time"] is not None:
        _resolve_point_in_time(source, target)
    else:
        _resolve_snapshot(source)
    existing = rds.describe_cluster(target["cluster_id"], target["region"])
    if existing and existing["tags"].get(OPERATION_TAG) != op_id:
        raise TargetExists(f"target cluster {target['cluster_id']} already exists in {target['region']} "
                           "and is not this operation's; it was not touched")
    slots = instance_slots(target["cluster_id"], target["instances"])
    state = {
        "execution_name": execution_name, "started_at": clock.iso(clock.now()), "operation_id": op_id,
        "resumed": existing is not None, "options": options, "source": source, "target": target, "slots": slots,
        "copy": None, "cluster": {"created_by_us": False, "password_managed": False, "phase": "waiting",
                                  "polls": 0, "wait_seconds": 0},
        "instances": {"phase": "creating", "polls": 0, "wait_seconds": 0},
        "context": {"cluster_id": target["cluster_id"], "region": target["region"], "engine": source["engine"],
                    "execution_name": execution_name, "operation_id": op_id, "tags": _tags(target, execution_name, op_id)},
    }
    cross_region = target["region"] != source["region"]
    if cross_region and source["encrypted"] and not target["kms_key_id"]:
        raise InvalidInput("input.target.kms_key_id: the snapshot is encrypted; give a key in the target region")
    if options["dry_run"]:
        state["next"] = "dry-run"
        state["output"] = _output(state, [{"instance_id": s["name"], "instance_class": s["instance_class"],
                                           "availability_zone": s["availability_zone"], "role": s["role"]} for s in slots])
        state["output"].update(dry_run=True, plan={"copy_to_region": target["region"] if cross_region else None,
                                                   "resume": state["resumed"], "operation_id": op_id})
        return state
    if existing:
        state["next"] = "wait-cluster"
        copy_id = _copy_id(state)
        if cross_region and rds.describe_snapshot(copy_id, target["region"]):
            state["copy"] = {"snapshot_id": copy_id, "created_by_us": False, "phase": "available", "polls": 0,
                             "wait_seconds": 0}
    elif cross_region:
        state["next"] = "copy"
    else:
        state["next"] = "restore"
    records.record(op_id, execution_name, "prepared", "running",
                      {"source": source, "target": target["cluster_id"], "resumed": state["resumed"]})
    return state


def _resolve_point_in_time(source: dict, target: dict) -> None:
    if source["snapshot"] != "latest":
        raise InvalidInput("input.source: give either snapshot or restore_time, not both")
    if target["region"] != source["region"]:
        raise InvalidInput("input.source.restore_time: a point-in-time restore stays in the source's region")
    cluster = rds.describe_cluster(source["cluster_id"], source["region"])
    if cluster is None:
        raise InvalidInput(f"input.source.cluster_id: cluster {source['cluster_id']} does not exist")
    earliest, latest = cluster["restorable"]
    if source["restore_time"] != "latest-restorable":
        try:
            moment = clock.parse(source["restore_time"])
        except ValueError:
            raise InvalidInput("input.source.restore_time: not an ISO 8601 time or 'latest-restorable'") from None
        if not clock.parse(earliest) <= moment <= clock.parse(latest):
            raise InvalidInput(f"input.source.restore_time: {clock.iso(moment)} is outside the restorable "
                               f"window {earliest} .. {latest}")
        source["restore_time"] = clock.iso(moment)
    source.update(snapshot_id=None, snapshot_arn=None, engine=cluster["engine"],
                  engine_version=cluster["engine_version"], encrypted=None)


def _resolve_snapshot(source: dict) -> None:
    if source["snapshot"] == "latest":
        snapshot = latest_snapshot(rds.cluster_snapshots(source["cluster_id"], source["region"]))
        if snapshot is None:
            raise SnapshotNotFound(f"cluster {source['cluster_id']} has no available snapshot in {source['region']}")
    else:
        region, name = source["region"], source["snapshot"].split(":cluster-snapshot:", 1)[-1]  # an id or an ARN
        snapshot = rds.describe_snapshot(name, region)
        if snapshot is None or snapshot["status"] != "available":
            raise SnapshotNotFound(f"snapshot {source['snapshot']} is not available in {region}"
                                   + (f" (status {snapshot['status']})" if snapshot else ""))
    source.update(snapshot_id=snapshot["snapshot_id"], snapshot_arn=snapshot["arn"], engine=snapshot["engine"],
                  engine_version=snapshot["engine_version"], encrypted=snapshot["encrypted"])


def _tags(target: dict, execution_name: str, op_id: str) -> dict[str, str]:
    return {**target["tags"], CREATED_BY_TAG: execution_name, OPERATION_TAG: op_id}


# ------------------------------------------------------------------ copy and restore
def copy_snapshot(state: dict) -> dict:
    source, target = state["source"], state["target"]
    copy_id = _copy_id(state)
    try:
        rds.copy_snapshot(source_arn=source["snapshot_arn"], source_region=source["region"], target_id=copy_id,
                          kms_key_id=target["kms_key_id"], tags=state["context"]["tags"], region=target["region"])
    except aws_error_class("DBClusterSnapshotAlreadyExistsFault"):
        existing = rds.describe_snapshot(copy_id, target["region"])
        if not existing or existing["tags"].get(OPERATION_TAG) != state["operation_id"]:
            raise
    state["copy"] = {"snapshot_id": copy_id, "created_by_us": True, "phase": "copying", "polls": 0,
                     "wait_seconds": COPY_POLL_SECONDS}
    records.record(state["operation_id"], state["execution_name"], "copy_started", "running", {"copy": copy_id})
    return state


def _copy_id(state: dict) -> str:
    return f"{state['target']['cluster_id'][:40]}-aops-{state['operation_id'][:8]}-copy"


def check_copy(state: dict) -> dict:
    copy = state["copy"]
    snapshot = rds.describe_snapshot(copy["snapshot_id"], state["target"]["region"])
    copy["polls"] += 1
    if snapshot is None:
        raise CopyFailed(f"snapshot copy {copy['snapshot_id']} disappeared")
    if snapshot["status"] == "available":
        copy["phase"] = "available"
        records.record(state["operation_id"], state["execution_name"], "copy_available", "running")
    elif snapshot["status"] in ("failed", "error", "incompatible-restore"):
        raise CopyFailed(f"snapshot copy {copy['snapshot_id']} ended in status {snapshot['status']}")
    elif copy["polls"] >= MAX_COPY_POLLS:
        raise RestoreTimeout(f"snapshot copy still {snapshot['status']} after {copy['polls']} checks")
    return state


def restore_cluster(state: dict) -> dict:
    source, target = state["source"], state["target"]
    snapshot = None
    if source["snapshot_id"] is not None:
        snapshot = state["copy"]["snapshot_id"] if state["copy"] else source["snapshot_id"]
    try:
        rds.restore_cluster(target=target, source=source, snapshot=snapshot, tags=state["context"]["tags"],
                            region=target["region"])
        state["cluster"]["created_by_us"] = True
    except aws_error_class("DBClusterAlreadyExistsFault"):
        existing = rds.describe_cluster(target["cluster_id"], target["region"])
        if not existing or existing["tags"].get(OPERATION_TAG) != state["operation_id"]:
            raise TargetExists(f"target cluster {target['cluster_id']} appeared meanwhile; it was not touched") from None
        state["cluster"]["created_by_us"] = existing["tags"].get(CREATED_BY_TAG) == state["execution_name"]
    state["cluster"].update(phase="waiting", polls=0, wait_seconds=CLUSTER_POLL_SECONDS)
    records.record(state["operation_id"], state["execution_name"], "restore_started", "running",
                      {"from": snapshot or f"{source['cluster_id']} at {source['restore_time']}"})
    return state


def check_cluster(state: dict) -> dict:
    cluster, target = state["cluster"], state["target"]
    found = rds.describe_cluster(target["cluster_id"], target["region"])
    cluster["polls"] += 1
    cluster["wait_seconds"] = CLUSTER_POLL_SECONDS
    if found is None:
        raise RestoreFailed(f"target cluster {target['cluster_id']} disappeared")
    if found["status"] in RESTORE_FAILED:
        raise RestoreFailed(f"target cluster {target['cluster_id']} ended in status {found['status']}")
    if found["status"] == "available":
        if state["options"]["manage_master_password"] and not cluster["password_managed"]:
            cluster["phase"] = "manage-password"
        else:
            cluster["phase"] = "create-instances"
            records.record(state["operation_id"], state["execution_name"], "cluster_available", "running")
    elif cluster["polls"] >= MAX_CLUSTER_POLLS:
        raise RestoreTimeout(f"target cluster still {found['status']} after {cluster['polls']} checks")
    return state


def manage_password(state: dict) -> dict:
    """Hand the master password to Secrets Manager so the source's credentials don't carry over."""
    target = state["target"]
    cluster = rds.describe_cluster(target["cluster_id"], target["region"])
    if not (cluster and cluster["master_user_secret"]):  # a repeated step: already handed over
        rds.manage_master_password(target["cluster_id"], target["region"])
    # polls keep counting: the cluster gets MAX_CLUSTER_POLLS in all, before and after this change
    state["cluster"].update(password_managed=True, phase="waiting", wait_seconds=CLUSTER_POLL_SECONDS // 2)
    records.record(state["operation_id"], state["execution_name"], "password_managed", "running")
    return state


# ------------------------------------------------------------------------- instances
def _create_from(slot: dict, context: dict, start: int) -> dict:
    index, instance_id, attempts = create_first_available(
        slot["candidates"], start, lambda i: slot_instance_id(slot, i),
        lambda new_id, candidate: rds.create_instance(
            instance_id=new_id, cluster_id=context["cluster_id"], engine=context["engine"],
            instance_class=candidate["instance_class"], availability_zone=candidate["availability_zone"],
            promotion_tier=slot["promotion_tier"], tags=context["tags"], region=context["region"]),
        context["execution_name"], context["region"],
    )
    slot["attempts"] = slot.get("attempts", []) + attempts
    if index is None:
        raise NoCapacityAvailable(json.dumps({"instance": slot["name"], "attempts": slot["attempts"]}))
    slot.update(candidate_index=index, instance_id=instance_id)
    return slot


def create_instance(slot: dict, context: dict) -> dict:
    """One Map iteration: create the slot's instance (or adopt it when resuming)."""
    if slot.get("instance_id"):
        return slot
    cluster = rds.describe_cluster(context["cluster_id"], context["region"])
    instances = rds.describe_cluster_instances(context["cluster_id"], cluster["writer_id"], context["region"])
    policy, _ = deployed_document().resolve(context["cluster_id"], cluster["tags"])
    slot["candidates"] = restore_candidates(slot, cluster["availability_zones"], instances, policy)
    ours = {i["instance_id"] for i in instances
            if i["tags"].get(OPERATION_TAG) == context["operation_id"] and i["status"] not in CREATE_FAILED}
    for index in range(len(slot["candidates"])):  # resuming: our own instance may exist already
        if slot_instance_id(slot, index) in ours:
            slot.update(candidate_index=index, instance_id=slot_instance_id(slot, index), attempts=[])
            return slot
    return _create_from(slot, context, 0)


def check_instances(state: dict) -> dict:
    """All instances available? Replace those lost to capacity with the next candidate."""
    context, progress = state["context"], state["instances"]
    progress["polls"] += 1
    progress["wait_seconds"] = INSTANCE_POLL_SECONDS
    pending = 0
    for slot in state["slots"]:
        instance = rds.describe_instance(slot["instance_id"], context["region"])
        if instance and instance["status"] == "available":
            continue
        if instance is None or instance["status"] in CREATE_FAILED:
            status = instance["status"] if instance else "disappeared"
            slot["attempts"].append({**slot["candidates"][slot["candidate_index"]],
                                     "result": "capacity-lost" if status == "insufficient-capacity" else f"failed: {status}"})
            if instance is not None:
                if instance["tags"].get(OPERATION_TAG) != context["operation_id"]:
                    raise OwnershipViolation(f"{slot['instance_id']} is not this operation's")
                if instance["status"] != "deleting":
                    rds.delete_instance(slot["instance_id"], context["region"])
            _create_from(slot, context, slot["candidate_index"] + 1)
        pending += 1
    if not pending:
        progress["phase"] = "available"
        records.record(state["operation_id"], state["execution_name"], "instances_available", "running")
    elif progress["polls"] >= MAX_INSTANCE_POLLS:
        raise RestoreTimeout(f"{pending} instances not available after {progress['polls']} checks")
    return state


# ----------------------------------------------------------------------- the end
def _output(state: dict, instances: list[dict]) -> dict:
    source = state["source"]
    output = {"cluster_id": state["target"]["cluster_id"], "region": state["target"]["region"],
              "operation_id": state["operation_id"], "instances": instances,
              "duration_seconds": round((clock.now() - clock.parse(state["started_at"])).total_seconds())}
    if source["snapshot_id"] is not None:
        output["snapshot_id"] = source["snapshot_id"]
    else:
        output["restore_time"] = source["restore_time"]
    return output


def finalize(state: dict) -> dict:
    target = state["target"]
    copy = state["copy"] and rds.describe_snapshot(state["copy"]["snapshot_id"], target["region"])
    if copy and copy["tags"].get(OPERATION_TAG) == state["operation_id"]:
        rds.delete_snapshot(copy["snapshot_id"], target["region"])  # the operation's temporary copy
    cluster = rds.describe_cluster(target["cluster_id"], target["region"])
    names = {s["instance_id"] for s in state["slots"]}
    instances = [
        {"instance_id": i["instance_id"], "instance_class": i["instance_class"],
         "availability_zone": i["availability_zone"], "role": "writer" if i["writer"] else "reader"}
        for i in rds.describe_cluster_instances(target["cluster_id"], cluster["writer_id"], target["region"])
        if i["instance_id"] in names
    ]
    output = _output(state, instances)
    output["resumed"] = state["resumed"]
    records.record(state["operation_id"], state["execution_name"], "finished", "succeeded", output)
    fallbacks = [a for slot in state["slots"] for a in slot.get("attempts", [])]
    # reporting is best effort: the restore succeeded all the same
    output.update(report(WORKFLOW, {"action": "restored", "cluster_id": target["cluster_id"], "instance_id": None,
                                    **output},
                         {"RestoreDurationSeconds": output["duration_seconds"]},
                         metered={"action": "restored", "attempts": fallbacks},
                         notify_it=state["options"].get("notify", True)))
    state["output"] = output
    return state


def cleanup(state: dict) -> dict:
    """After a failure: with delete_on_failure, delete what this execution created
    (instances, then the cluster, then the temporary copy) and nothing else.
    Called again after a wait while deleted instances are still going away."""
    error = state["error"]
    message = caught_error_message(error.get("Cause")) or error.get("Error") or ""
    name = execution_error_name(error.get("Error"), "RestoreFailed")
    if state.get("rejected"):  # Prepare failed: nothing was created, nothing is recorded or notified
        state.update(cleanup={"done": True, "deleted": []}, failure={"error": name, "cause": message})
        return state
    progress = state.setdefault("cleanup", {"polls": 0, "deleted": [], "done": False})
    progress["wait_seconds"] = CLEANUP_POLL_SECONDS
    target, me = state["target"], state["execution_name"]
    restored = state["instances"]["phase"] == "available"
    if restored:  # only finalizing failed: a restore that is complete is never deleted
        message += "; the restore had completed: the cluster and its instances were kept"
    elif state["options"]["delete_on_failure"]:
        cluster = rds.describe_cluster(target["cluster_id"], target["region"])
        ours = []
        if cluster is not None:
            ours = [i for i in rds.describe_cluster_instances(target["cluster_id"], cluster["writer_id"], target["region"])
                    if i["tags"].get(CREATED_BY_TAG) == me]
        for instance in ours:
            if instance["status"] != "deleting":
                rds.delete_instance(instance["instance_id"], target["region"])
                progress["deleted"].append(instance["instance_id"])
        if ours:
            progress["polls"] += 1
            if progress["polls"] < MAX_CLEANUP_POLLS:
                return state
            message += f"; cleanup gave up waiting for {len(ours)} instances to be deleted"
        else:
            if cluster is not None and cluster["tags"].get(CREATED_BY_TAG) == me:
                rds.delete_cluster(target["cluster_id"], target["region"])
                progress["deleted"].append(target["cluster_id"])
            copy = state.get("copy")
            if copy and copy["created_by_us"]:
                snapshot = rds.describe_snapshot(copy["snapshot_id"], target["region"])
                if snapshot and snapshot["tags"].get(CREATED_BY_TAG) == me:
                    rds.delete_snapshot(copy["snapshot_id"], target["region"])
                    progress["deleted"].append(copy["snapshot_id"])
    cause = {"error": name, "message": message, "operation_id": state["operation_id"],
             "deleted": progress["deleted"], "delete_on_failure": state["options"]["delete_on_failure"]}
    if restored:
        cause["kept"] = [target["cluster_id"], *(slot["instance_id"] for slot in state["slots"])]
        if state.get("copy") and state["copy"]["created_by_us"]:
            cause["kept"].append(state["copy"]["snapshot_id"])
    records.record(state["operation_id"], me, "failed", "failed", cause)
    cause.update(report(WORKFLOW, {"action": "failed", "cluster_id": target["cluster_id"], "instance_id": None,
                                   **cause}, notify_it=state["options"].get("notify", True)))
    progress["done"] = True
    state["failure"] = {"error": name, "cause": json.dumps(cause)}
    return state
