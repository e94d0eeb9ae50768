"""dr-readiness decisions (pure): every check of a cluster, a global cluster and an
Aurora DSQL cluster, a resource's readiness, and which changes are told.

A check is {"name", "state", "detail"}; its state is `pass`, `fail`, `error` (AWS did
not answer what the check needs) or `skip` (it does not apply). A resource is ready
when none of its checks is `fail` or `error`. docs/dr-readiness.md lists the checks."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime

from ...core import clock
from ...core.instances import at_least

CLUSTER_CHECKS = ("cluster-exists", "snapshot-fresh", "drill-recent", "readers-in-two-azs",
                  "reader-as-large-as-writer")
GLOBAL_CHECKS = ("has-secondary", "secondaries-connected", "rpo-lag-within-target", "engine-versions-match",
                 "secondaries-have-instances")
DSQL_CHECKS = ("dsql-cluster-active", "dsql-peers-active", "dsql-witness-region-set")
LAG_WINDOW_MINUTES = 5  # a secondary's RPO lag is the worst one-minute Maximum of this many minutes
# Instance statuses in which a reader serves and can be promoted (Aurora User Guide, "Viewing DB
# instance status"): the others are on their way in or out, stopped, or failed.
SERVING = frozenset({"available", "backing-up", "modifying", "configuring-enhanced-monitoring",
                     "configuring-iam-database-auth", "configuring-log-exports", "storage-optimization"})
# Aurora DSQL statuses that serve (GetCluster's enum in botocore's dsql model): IDLE is a
# healthy cluster without recent traffic, which resumes on the next connection.
DSQL_SERVING = frozenset({"ACTIVE", "IDLE"})
NOT_READY = ("fail", "error")


def check(name: str, state: str, detail: str) -> dict:
    return {"name": name, "state": state, "detail": detail}


def resource(kind: str, resource_id: str, region: str | None, checks: list[dict]) -> dict:
    failed = [c["name"] for c in checks if c["state"] in NOT_READY]
    return {"kind": kind, "id": resource_id, "region": region, "ready": not failed, "failed": failed,
            "checks": checks}


def _hours(since: datetime, now: datetime) -> float:
    return (now - since).total_seconds() / 3600


# --------------------------------------------------------------------------- clusters
def missing_cluster(cluster_id: str, region: str) -> list[dict]:
    return [check("cluster-exists", "fail", f"{cluster_id} is not a cluster of {region}")] + [
        check(name, "skip", "the cluster does not exist") for name in CLUSTER_CHECKS[1:]]


def cluster_checks(cluster: dict, instances: list[dict], snapshot: dict | None, drill: dict | None,
                   policy, now: datetime) -> list[dict]:
    """Every check of one cluster that exists. `policy` is its ClusterPolicy (its `dr` and
    `restore_drill`); `drill` its latest passed restore drill ({"at", "execution"}) or None."""
    return [check("cluster-exists", "pass", f"{cluster['cluster_id']} is {cluster['status']}"),
            snapshot_fresh(snapshot, policy.dr.max_snapshot_age_hours, now),
            drill_recent(drill, policy.restore_drill.enabled, policy.dr.max_drill_age_days, now),
            readers_in_two_azs(instances),
            reader_as_large_as_writer(instances, (cluster.get("serverless_v2") or {}).get("max_acu"))]


def snapshot_fresh(snapshot: dict | None, max_hours: float, now: datetime) -> dict:
    if snapshot is None:
        return check("snapshot-fresh", "fail", "no available snapshot")
    age = _hours(clock.parse(snapshot["created"]), now)
    state = "pass" if age < max_hours else "fail"
    return check("snapshot-fresh", state, f"newest: {snapshot['snapshot_id']} ({snapshot['type']}), taken "
                                          f"{age:.1f} h ago; limit {max_hours:g} h")


def drill_recent(drill: dict | None, enabled: bool, max_days: float, now: datetime) -> dict:
    if not enabled:
        return check("drill-recent", "skip", "restore_drill.enabled is false")
    if drill is None:
        return check("drill-recent", "fail", "no passed restore drill recorded")
    age = _hours(drill["at"], now) / 24
    state = "pass" if age < max_days else "fail"
    return check("drill-recent", state, f"last passed drill {age:.1f} days ago ({drill['execution']}); "
                                        f"limit {max_days:g} days")


def _readers(instances: list[dict]) -> list[dict]:
    return [i for i in instances if not i["writer"] and i["status"] in SERVING]


def readers_in_two_azs(instances: list[dict]) -> dict:
    zones = sorted({i["availability_zone"] for i in _readers(instances)})
    if not zones:
        return check("readers-in-two-azs", "fail", "no serving reader")
    state = "pass" if len(zones) >= 2 else "fail"
    return check("readers-in-two-azs", state, f"serving readers in {', '.join(zones)}"
                                              + ("" if state == "pass" else " only"))


def reader_as_large_as_writer(instances: list[dict], max_acu: float | None) -> dict:
    """A safe failover target: a serving reader at least the writer's size (db.serverless:
    the cluster's max_acu x 2 GiB against the class's memory)."""
    name = "reader-as-large-as-writer"
    writer = next((i for i in instances if i["writer"]), None)
    if writer is None:
        return check(name, "skip", "no writer: a global secondary (its global cluster's checks apply)")
    readers = _readers(instances)
    if not readers:
        return check(name, "fail", "no serving reader")
    problems = []
    for reader in sorted(readers, key=lambda i: i["instance_id"]):
        try:
            if at_least(reader["instance_class"], writer["instance_class"], max_acu):
                return check(name, "pass", f"{reader['instance_id']} ({reader['instance_class']}) is at least the "
                                           f"writer's {writer['instance_class']}")
        except ValueError as exc:
            problems.append(str(exc))
    listed = ", ".join(f"{r['instance_id']} {r['instance_class']}" for r in readers)
    return check(name, "fail", f"no serving reader is at least the writer's {writer['instance_class']} "
                               f"({listed})" + (f"; {problems[0]}" if problems else ""))


# ----------------------------------------------------------------------- global clusters
def global_checks(group: dict, described: dict[str, dict | str], lags: dict[str, float | str | None],
                  rpo_target: float) -> list[dict]:
    """Every check of a global cluster. `described`: each member's cluster as its region
    describes it, or the error message of a region that did not answer; `lags`: each
    secondary's worst RPO lag in seconds, None without a datapoint, or an error message."""
    secondaries = [m for m in group["members"] if not m["writer"]]
    if not secondaries:
        only = ", ".join(m["cluster_id"] for m in group["members"]) or "no member"
        return [check("has-secondary", "fail", f"no secondary cluster ({only})")] + [
            check(name, "skip", "no secondary") for name in GLOBAL_CHECKS[1:]]
    names = ", ".join(f"{m['cluster_id']} ({m['region']})" for m in secondaries)
    return [check("has-secondary", "pass", f"{len(secondaries)} secondary: {names}"),
            _connected(secondaries), _lags(secondaries, lags, rpo_target), _versions(group, described),
            _instances(secondaries, described)]


def _connected(secondaries: list[dict]) -> dict:
    lagging = [f"{m['cluster_id']} is {m['synchronization'] or 'of unknown synchronization'}"
               for m in secondaries if m["synchronization"] != "connected"]
    return check("secondaries-connected", "fail" if lagging else "pass",
                 "; ".join(lagging) or "every secondary is connected")


def _lags(secondaries: list[dict], lags: dict, target: float) -> dict:
    parts, state = [], "pass"
    for member in secondaries:
        lag = lags.get(member["cluster_id"])
        if isinstance(lag, str):
            parts.append(f"{member['cluster_id']}: {lag}")
            state = "error" if state == "pass" else state
        elif lag is None:
            parts.append(f"{member['cluster_id']}: no AuroraGlobalDBRPOLag datapoint in the last "
                         f"{LAG_WINDOW_MINUTES} minutes")
            state = "fail"
        else:
            parts.append(f"{member['cluster_id']}: {lag:g} s")
            if lag >= target:
                state = "fail"
    return check("rpo-lag-within-target", state, f"worst of {LAG_WINDOW_MINUTES} min: {'; '.join(parts)}; "
                                                 f"target {target:g} s")


def _unanswered(described: dict, members: list[dict]) -> list[str]:
    return [f"{m['cluster_id']} ({m['region']}): {described[m['cluster_id']]}" for m in members
            if isinstance(described.get(m["cluster_id"]), str)]


def _versions(group: dict, described: dict) -> dict:
    unanswered = _unanswered(described, group["members"])
    if unanswered:
        return check("engine-versions-match", "error", "; ".join(unanswered))
    versions = {m["cluster_id"]: (described.get(m["cluster_id"]) or {}).get("engine_version", "gone")
                for m in group["members"]}
    if len(set(versions.values())) == 1:
        return check("engine-versions-match", "pass", f"every member runs {next(iter(versions.values()))}")
    return check("engine-versions-match", "fail", ", ".join(f"{c} {v}" for c, v in versions.items()))


def _instances(secondaries: list[dict], described: dict) -> dict:
    unanswered = _unanswered(described, secondaries)
    if unanswered:
        return check("secondaries-have-instances", "error", "; ".join(unanswered))
    counts = {m["cluster_id"]: len((described.get(m["cluster_id"]) or {}).get("members", []))
              for m in secondaries}
    empty = [c for c, n in counts.items() if n == 0]
    return check("secondaries-have-instances", "fail" if empty else "pass",
                 ", ".join(f"{c} has {n} instance{'s' if n != 1 else ''}" for c, n in counts.items()))


# ------------------------------------------------------------------------- Aurora DSQL
def dsql_checks(dsql_id: str, region: str, cluster: dict | str | None, peers: dict[str, dict | str | None]) -> list[dict]:
    """Every check of an Aurora DSQL cluster: `cluster` is GetCluster's answer, None when it
    does not exist, or an error message; `peers` each peer's by ARN (the same forms)."""
    if isinstance(cluster, str) or cluster is None:
        state, detail = ("error", cluster) if isinstance(cluster, str) else ("fail", f"{dsql_id} does not exist "
                                                                                     f"in {region}")
        return [check("dsql-cluster-active", state, detail)] + [
            check(name, "skip", "the cluster did not answer") for name in DSQL_CHECKS[1:]]
    status = cluster["status"]
    detail = status + (": healthy, without recent traffic (cold)" if status == "IDLE" else "")
    witness = cluster["witness_region"]
    return [check("dsql-cluster-active", "pass" if status in DSQL_SERVING else "fail", detail),
            _peers(peers),
            check("dsql-witness-region-set", "pass" if witness else "fail",
                  f"witness Region {witness}" if witness else "no witness Region: not a multi-Region cluster")]


def _peers(peers: dict) -> dict:
    if not peers:
        return check("dsql-peers-active", "fail", "no peer cluster: not a multi-Region cluster")
    parts, state = [], "pass"
    for arn, peer in sorted(peers.items()):
        name = f"{arn.rsplit('/', 1)[-1]} ({arn.split(':')[3]})"
        if isinstance(peer, str):
            parts.append(f"{name}: {peer}")
            state = "error" if state == "pass" else state
        elif peer is None:
            parts.append(f"{name} is gone")
            state = "fail"
        else:
            parts.append(f"{name} {peer['status']}")
            if peer["status"] not in DSQL_SERVING:
                state = "fail"
    return check("dsql-peers-active", state, "; ".join(parts))


# ----------------------------------------------------------------------------- changes
def plan_writes(resources: list[dict], previous: dict[str, dict], keys: list[str], now: str) -> list[dict]:
    """For each resource (and its table key): `since` (when its readiness last changed),
    `told` (the readiness notified so far, None: none), whether this run claims the
    notification (`claim`), and whether that claim is a change to tell (`notify`): a
    change from ready to not ready or back; a resource seen for the first time is told
    only when it is not ready."""
    plans = []
    for item, key in zip(resources, keys):
        before = previous.get(key)
        told = before["notified_ready"] if before else None
        since = before["since"] if before and before["since"] and before["ready"] == item["ready"] else now
        notify = item["ready"] != told if told is not None else not item["ready"]
        claim = notify or told is None
        plans.append({"resource": item, "since": since, "told": told, "claim": claim, "notify": notify})
    return plans


def change(item: dict) -> dict:
    """What a notification says of one change."""
    return {"kind": item["kind"], "id": item["id"], "region": item["region"], "ready": item["ready"],
            "failed": [c for c in item["checks"] if c["state"] in NOT_READY]}


def subject(changes: list[dict]) -> str:
    if len(changes) == 1:
        only = changes[0]
        return f"aurora-ops dr-readiness: {only['kind']} {only['id']} {'ready' if only['ready'] else 'NOT ready'}"
    worse = sum(1 for c in changes if not c["ready"])
    parts = [f"{worse} NOT ready" if worse else "", f"{len(changes) - worse} ready again" if worse < len(changes) else ""]
    return "aurora-ops dr-readiness: " + ", ".join(p for p in parts if p)


def compact(item: dict) -> dict:
    """A resource as the output shows it: each check's state, and the detail of those that
    did not pass (every detail is in the state table)."""
    return {"kind": item["kind"], "id": item["id"], "region": item["region"], "ready": item["ready"],
            "failed": item["failed"], "checks": {c["name"]: c["state"] for c in item["checks"]},
            "problems": {c["name"]: c["detail"] for c in item["checks"] if c["state"] in NOT_READY}}


def pack(resources: list[dict]) -> str:
    """The resources as Assess hands them to Record: compressed, so that a fleet's checks
    and their details stay far below Step Functions' 256 KB state limit (about 650 bytes a
    resource as JSON, a tenth of that packed)."""
    return base64.b64encode(gzip.compress(json.dumps(resources, separators=(",", ":")).encode())).decode()


def unpack(packed: str) -> list[dict]:
    return json.loads(gzip.decompress(base64.b64decode(packed)))
