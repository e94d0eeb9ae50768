"""Every AWS call the handlers make is allowed by its function's role, as AWS
would authorize it; and no role holds an action none of its calls needs.

The calls are recorded while the real state machines run in the simulator
over scenarios that between them take every path that calls AWS (a test
below proves every API the code names was seen). Each call becomes the
authorization requests AWS makes for it (iam_authorization: the Service
Authorization Reference's resource types and the documented dependent
actions), evaluated against the role's statements as deployed (iam_model).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from aurora_ops_sim.engine import Simulation
from iam_authorization import requests_for
from iam_model import ACCOUNT, Deployment, Request, as_list, is_allowed
from test_iam_data import allowed_probes

# its tests share what the module computes once (make test spreads the others test by test)
pytestmark = pytest.mark.xdist_group("iam-calls")

ROOT = Path(__file__).resolve().parents[2]


def _world(name: str, **changes) -> dict:
    world = yaml.safe_load((ROOT / "examples" / name).read_text())
    world.update(changes)
    return world


def _input(name) -> dict:
    if isinstance(name, dict):
        return name
    return json.loads((ROOT / "events" / name).read_text())


def _monitored_world() -> dict:
    """The writer has Enhanced Monitoring (a role the stack is told about) and Performance Insights."""
    world = _world("happy-path.yaml")
    writer = world["clusters"][0]["instances"][0]
    writer.update(monitoring_interval=60, performance_insights=True,
                  monitoring_role_arn="arn:aws:iam::123456789012:role/rds-monitoring-role")
    return world


def _lost_restore_world() -> dict:
    """Cross-region restore whose instances never get capacity: everything made is cleaned up."""
    world = _world("restore.yaml")
    world["faults"] = {"insufficient_capacity": [{"class": c, "az": "*"} for c in ("db.r6g.large", "db.r6g.xlarge")]}
    return world


def _replaced_restore_world() -> dict:
    world = _world("restore.yaml")
    world["faults"] = {"capacity_lost": [{"class": "db.r6g.large", "az": "us-east-1b"}]}
    return world


CAPACITY_EVENT = {  # an event start: the lock is taken with the event's marker (TransactWriteItems)
    "version": "0", "id": "7d1c0f3e-iam-check", "detail-type": "RDS DB Cluster Event", "source": "aws.rds",
    "account": "123456789012", "time": "2026-11-24T11:59:00Z", "region": "us-east-1", "resources": [],
    "detail": {"SourceIdentifier": "orders", "EventID": "RDS-EVENT-0353", "Message": "insufficient capacity"},
}

INSTANCE_EVENT = {**CAPACITY_EVENT, "id": "7d1c0f3e-iam-instance", "detail-type": "RDS DB Instance Event",
                  "detail": {"SourceIdentifier": "orders-2", "EventID": "RDS-EVENT-0353", "Message": "capacity"}}

def _faulted(name: str, *lambda_faults: dict) -> dict:
    world = _world(name)
    world.setdefault("faults", {})["lambda"] = list(lambda_faults)
    return world


def _writer_class_drill_world() -> dict:
    world = _world("restore-drill.yaml")
    del world["policies"]["defaults"]
    return world


def _failed_drill_world() -> dict:
    world = _world("restore-drill.yaml")
    world["policies"]["clusters"]["orders"]["restore_drill"]["checks"][0]["expect"] = {"min": 5000}
    return world


def _cooldown_world() -> dict:
    """A reader this system created a minute ago: an event now is stale (Reserve takes and drops the lock)."""
    world = _world("happy-path.yaml")
    world["clusters"][0]["instances"].append(
        {"id": "orders-aops-0a1b2c3d-1", "class": "db.r6g.large", "az": "us-east-1c", "created": "2026-11-24T11:59:00Z",
         "tags": {"aurora-ops:created-by": "earlier-execution"}})
    return world


SCENARIOS = {
    "scale-up stale event": ("scale-up", _cooldown_world, CAPACITY_EVENT),
    "scale-down evaluation lost": ("scale-down", lambda: _faulted(
        "scale-down.yaml", {"state": "EvaluateCluster", "fault": "service-error", "times": 40}), "scale-down-all.json"),
    "restore retried steps": ("snapshot-restore", lambda: _faulted(
        "restore.yaml", {"state": "CopySnapshot", "fault": "lost-response", "times": 1},
        {"state": "RestoreCluster", "fault": "lost-response", "times": 1}), "snapshot-restore-cross-region.json"),
    "restore failed after instances": ("snapshot-restore", lambda: _faulted(
        "restore.yaml", {"state": "CheckInstances", "fault": "service-error", "times": 40}), "snapshot-restore.json"),
    "scale-up instance event": ("scale-up", lambda: _world("happy-path.yaml"), INSTANCE_EVENT),
    "scale-up event": ("scale-up", lambda: _world("happy-path.yaml"), CAPACITY_EVENT),
    "scale-up crunch": ("scale-up", lambda: _world("capacity-crunch.yaml"), "manual.json"),
    "scale-up monitored": ("scale-up", _monitored_world, "manual.json"),
    "scale-down": ("scale-down", lambda: _world("scale-down.yaml"), "scale-down-all.json"),
    "restore": ("snapshot-restore", lambda: _world("restore.yaml"), "snapshot-restore.json"),
    "restore replaced": ("snapshot-restore", _replaced_restore_world, "snapshot-restore.json"),
    "restore cross-region": ("snapshot-restore", lambda: _world("restore.yaml"), "snapshot-restore-cross-region.json"),
    "restore point-in-time": ("snapshot-restore", lambda: _world("restore.yaml"), "snapshot-restore-point-in-time.json"),
    "restore cleaned up": ("snapshot-restore", _lost_restore_world, "snapshot-restore-cross-region.json"),
    "failover drill and failback": ("failover", lambda: _world("failover-drill.yaml"), "failover-drill.json"),
    "failover switchover": ("failover", lambda: _world("global-orders.yaml"), "failover-switchover.json"),
    "failover with data loss": ("failover", lambda: _world("global-orders.yaml"), "failover-failover.json"),
    "failover detach-and-promote": ("failover", lambda: _world("global-orders.yaml"),
                                    "failover-detach-and-promote.json"),
    "restore drills": ("restore-drill", lambda: _world("restore-drill.yaml"), "restore-drill.json"),
    # no instance_classes: the scratch instance is the writer's class (Plan reads the instances)
    "restore drill of the writer's class": ("restore-drill", _writer_class_drill_world, {"cluster_id": "orders"}),
    "restore drill with a failed check": ("restore-drill", _failed_drill_world, {"cluster_id": "orders"}),
    "restore drill scheduled in observe mode": ("restore-drill", lambda: _world("restore-drill.yaml", parameters={
        "Mode": "observe"}), {"trigger": "schedule"}),
    # Prepare takes the primary's lock, finds the secondary's held and gives its own back
    "failover one member locked": ("failover", lambda: _world("global-orders.yaml", locks=[
        {"cluster": "orders-west", "owner": "sim-scale-up-9", "workflow": "scale-up"}]), "failover-switchover.json"),
    # every read (a global secondary in us-west-2, a DSQL cluster and its peer in us-east-2), the drills,
    # the readiness items and the notification of two changes
    "dr-readiness": ("dr-readiness", lambda: _world("dr-readiness.yaml"), "dr-readiness.json"),
}


def _record_tags(simulation: Simulation, call: dict) -> None:
    """The tags and engine of each RDS resource the call names, read from moto directly."""
    from moto.rds.models import rds_backends

    params = call["params"]
    regions = {call["region"]} | {p.split(":")[3] for p in params.values() if isinstance(p, str) and p.startswith("arn:aws:rds:")}
    found, encrypted = {}, None
    for region in regions:
        backend = rds_backends[simulation.account][region]
        for kind, table in (("db", backend.databases), ("cluster", backend.clusters),
                            ("cluster-snapshot", backend.cluster_snapshots)):
            for name, resource in table.items():
                arn = f"arn:aws:rds:{region}:{simulation.account}:{kind}:{name}"
                if name in params.values() or arn in params.values():
                    found[arn] = {"tags": {t["Key"]: t["Value"] for t in resource.tags or []},
                                  "engine": getattr(resource, "engine", None)}
                    if kind == "cluster-snapshot" and getattr(resource, "kms_key_id", None):
                        encrypted = resource.kms_key_id
                    if kind == "cluster" and call["operation"].startswith("Restore") and getattr(resource, "kms_key_id", None):
                        encrypted = resource.kms_key_id
    call["resources"], call["encrypted_source"] = found, encrypted


class Recorder(Simulation):
    def api_call(self, client, operation, params, original):
        call = {"region": client.meta.region_name, "account": self.account, "params": params,
                "operation": operation}
        _record_tags(self, call)
        before = len(self.calls)
        try:
            return super().api_call(client, operation, params, original)
        finally:
            record = self.calls[before]
            record.update(region=call["region"], account=self.account, resources=call["resources"],
                          encrypted_source=call["encrypted_source"])


@cache
def recorded(name: str) -> tuple[dict, ...]:
    workflow, world, input_file = SCENARIOS[name]
    with Recorder(world(), ROOT, echo_handler_output=False) as simulation:
        report = simulation.run(workflow, _input(input_file))
        table, topic = simulation.stack.resolve({"Ref": "StateTable"}), simulation.stack.topic_arn
        calls = tuple(dict(c, table=table, topic=topic) for c in simulation.calls)
    assert report["status"] in ("SUCCEEDED", "FAILED"), (name, report["status"])
    return calls


def all_calls() -> list[dict]:
    return [c for name in SCENARIOS for c in recorded(name)]


def _deployment(call: dict, **parameters) -> Deployment:
    return Deployment(parameters={"ManagedClusterIds": ["orders"], **parameters},
                      table_name=call["table"], topic_arn=call["topic"])


def _topic_key(deployment: Deployment) -> str:
    return deployment.resolve({"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, {"Fn::GetAtt": ["NotificationKey", "Arn"]}]})


KEY_PARAMETERS = [{}, {"KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-stack-key"}]


def denied(calls, parameters: dict, mutate=None) -> list[str]:
    """Every authorization request of these calls that its function's role does not allow."""
    problems = []
    for call in calls:
        deployment = _deployment(call, **parameters)
        statements = deployment.role_statements(call["function"])
        if mutate:
            statements = mutate(call["function"], copy.deepcopy(statements))
        for request in requests_for(call, _topic_key(deployment)):
            if not is_allowed(statements, request):
                problems.append(f"{call['function']}: {request.action} on {request.resource} ({request.why}) "
                                f"context {request.context}")
    return problems


@pytest.mark.parametrize("parameters", KEY_PARAMETERS, ids=["stack-key", "customer-key"])
def test_every_recorded_call_is_allowed_as_aws_would_authorize_it(parameters):
    problems = denied(all_calls(), parameters)
    assert not problems, "\n".join(dict.fromkeys(problems))


def test_no_role_holds_an_action_none_of_its_calls_needs():
    """The other half of least privilege: a granted action nobody's call needs is a privilege nobody uses."""
    used: dict[str, set[str]] = {}
    for parameters in KEY_PARAMETERS:
        for call in all_calls():
            deployment = _deployment(call, **parameters)
            used.setdefault(call["function"], set()).update(
                r.action.lower() for r in requests_for(call, _topic_key(deployment)))
    deployment = Deployment(parameters={"ManagedClusterIds": ["orders"], **KEY_PARAMETERS[1]})
    functions = [f for f in deployment.roles() if f.endswith("Function")]
    unused = {}
    for function in functions:
        granted = {a.lower() for s in deployment.role_statements(function) for a in as_list(s["Action"])}
        extra = granted - used.get(function, set())
        if extra:
            unused[function] = sorted(extra)
    assert not unused, json.dumps(unused, indent=1)


ELSEWHERE = {("dynamodb", "execute_statement")}  # the Data API's, in aws/data_api.py


def test_every_aws_operation_the_code_names_was_exercised():
    """The scenarios cover the code: each boto3 operation called under functions/ was called at least once."""
    import boto3

    source = "\n".join(p.read_text() for p in (ROOT / "functions" / "aurora_ops").rglob("*.py"))
    methods = set(re.findall(r"\.([a-z_]+)\(", source)) | set(re.findall(r'get_paginator\("([a-z_]+)"\)', source))
    named = set()
    for service in ("rds", "dynamodb", "sns", "cloudwatch"):
        mapping = boto3.client(service, region_name="us-east-1").meta.method_to_api_mapping
        named |= {(service, mapping[m]) for m in methods if m in mapping and (service, m) not in ELSEWHERE}
    # Aurora DSQL's and the Data API's method names (list_clusters, execute_statement) are also
    # other clients': their operations are those of the one module with such a client.
    for service, module in (("dsql", "dsql.py"), ("rds-data", "data_api.py")):
        mapping = boto3.client(service, region_name="us-east-1").meta.method_to_api_mapping
        code = (ROOT / "functions" / "aurora_ops" / "aws" / module).read_text()
        named |= {(service, mapping[m]) for m in re.findall(r"\.([a-z_]+)\(", code) if m in mapping}
    seen = {(c["service"], c["operation"]) for c in all_calls()}
    assert len(named) >= 15 and not named - seen, sorted(named - seen)


# ------------------------------------------------------------------ regressions
# The checks fail if any finding of the AWS-truth review came back: each case puts
# the old statement back (or takes the fix out) in the deployed roles and shows
# which check then reports it: the recorded calls AWS would deny (`denied`) or a
# forbidden request a role would allow (test_iam_data.allowed_probes). Here, so
# the recorded scenarios are simulated once per test process.

RDS_ARN = f"arn:aws:rds:*:{ACCOUNT}"


def without(sid):
    return lambda role, statements: [s for s in statements if s.get("Sid") != sid]


def plus(role_name, statement):
    return lambda role, statements: statements + ([statement] if role == role_name else [])


def passed_to(service):
    def mutate(role, statements):
        for s in statements:
            if s.get("Sid") == "EnhancedMonitoringRolesTheStackIsToldAbout":
                s["Condition"] = {"StringEquals": {"iam:PassedToService": service}}
        return statements
    return mutate


DENIED_AGAIN = {  # AWS would deny a call the code makes
    "ModifyDBCluster(ManageMasterUserPassword) without kms:DescribeKey": without("RdsManagedSecretKey"),
    "a reader keeping a customer managed Performance Insights key": without("PerformanceInsightsKeyOfTheWriter"),
    "PassRole only to monitoring.rds.amazonaws.com": passed_to("monitoring.rds.amazonaws.com"),
}
ALLOWED_AGAIN = {  # a role could do what no role may
    "an unconditioned CopyDBClusterSnapshot statement": plus("SnapshotRestoreCopySnapshotFunction", {
        "Effect": "Allow", "Action": ["rds:CopyDBClusterSnapshot"], "Resource": f"{RDS_ARN}:cluster-snapshot:*"}),
    "restore tagging any cluster as its own": plus("SnapshotRestoreRestoreClusterFunction", {
        "Effect": "Allow", "Action": ["rds:RestoreDBClusterFromSnapshot", "rds:AddTagsToResource"],
        "Resource": f"{RDS_ARN}:cluster:*",
        "Condition": {"StringLike": {"aws:RequestTag/aurora-ops:created-by": "*"}}}),
    "restore tagging any instance as its own": plus("SnapshotRestoreCreateInstanceFunction", {
        "Effect": "Allow", "Action": ["rds:CreateDBInstance", "rds:AddTagsToResource"], "Resource": f"{RDS_ARN}:db:*",
        "Condition": {"StringLike": {"aws:RequestTag/aurora-ops:created-by": "*"}}}),
    "CreateDBInstance for any engine": plus("ScaleUpCreateReaderFunction", {
        "Effect": "Allow", "Action": ["rds:CreateDBInstance"], "Resource": f"{RDS_ARN}:db:*-aops-*",
        "Condition": {"StringLike": {"aws:RequestTag/aurora-ops:created-by": "*"}}}),
    "deleting any snapshot that carries the tag (a restored cluster's own snapshots)": plus(
        "SnapshotRestoreFinalizeFunction", {
            "Effect": "Allow", "Action": ["rds:DeleteDBClusterSnapshot"], "Resource": f"{RDS_ARN}:cluster-snapshot:*",
            "Condition": {"StringLike": {"aws:ResourceTag/aurora-ops:created-by": "*"}}}),
    "iam:PassRole on role/*": plus("ScaleUpCreateReaderFunction", {
        "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
        "Condition": {"StringEquals": {"iam:PassedToService": ["monitoring.rds.amazonaws.com", "rds.amazonaws.com"]}}}),
}


@pytest.mark.parametrize("finding", DENIED_AGAIN)
def test_a_denial_that_came_back_fails_the_call_check(finding):
    assert not denied(all_calls(), {})
    assert denied(all_calls(), {}, mutate=DENIED_AGAIN[finding])


@pytest.mark.parametrize("finding", ALLOWED_AGAIN)
def test_a_privilege_that_came_back_fails_the_probes(finding):
    deployment = Deployment(parameters={"ManagedClusterIds": ["orders"]})
    assert not allowed_probes(deployment)
    assert allowed_probes(deployment, mutate=ALLOWED_AGAIN[finding])
