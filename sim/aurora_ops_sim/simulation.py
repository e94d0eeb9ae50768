"""Run a real state machine with the real handlers against moto, in a world."""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import json
import os
import sys
import threading
import time
import traceback
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from aurora_ops import clock
from aurora_ops import aws as aurora_aws

from . import patches
from .template import Template
from .world import WorldError, load_world

ROOT = Path(__file__).resolve().parents[2]
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
WORKFLOWS = ("scale-up", "scale-down", "snapshot-restore")
STATE_TABLE = "aurora-ops-state"
REAL_SECONDS_LIMIT = 300  # a simulated execution that runs longer than this (real time) is stopped
_ENV_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION")


# Optional world instance fields (extensions) -> CreateDBInstance parameters.
_INSTANCE_SETTINGS = {
    "monitoring_interval": "MonitoringInterval",
    "monitoring_role_arn": "MonitoringRoleArn",
    "performance_insights": "EnablePerformanceInsights",
    "ca_certificate": "CACertificateIdentifier",
}


class UnknownWorkflow(Exception):
    pass


def asl_file(workflow: str) -> str:
    if workflow not in WORKFLOWS:
        raise UnknownWorkflow(f"unknown workflow {workflow!r}; known: {', '.join(WORKFLOWS)}")
    return f"statemachines/{workflow.replace('-', '_')}.asl.json"


@dataclass
class _Context:
    """What the Lambda runtime hands a handler, as far as Powertools reads it."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/simulated"
    log_stream_name: str = "simulated"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _matches(fault: dict, instance_class: str, az: str) -> bool:
    return fault["class"] == instance_class and fault["az"] in ("*", az)


class Simulation:
    """A simulated account built from a world. Use as a context manager; `run`
    any number of executions, which share the world (and its clock)."""

    def __init__(self, world, root: Path = ROOT, echo_handler_output: bool = True):
        self.echo_handler_output = echo_handler_output
        self.world = load_world(world)
        self.root = Path(root)
        self.template = Template(self.root)
        self.account = self.world["account_id"]
        self.region = self.world["region"]
        self.now = clock.parse(self.world["now"])
        self.faults = copy.deepcopy(self.world["faults"])
        self.timing = self.world["timing"]
        self.calls: list[dict] = []
        self.metrics: list[dict] = []
        self.invocations = 0
        self.tracked: dict[str, dict] = {}  # instance id -> status script for created/deleted instances
        self.tracked_clusters: dict[tuple, dict] = {}  # (region, id) -> status script for restored clusters
        self.tracked_snapshots: dict[tuple, dict] = {}  # (region, id) -> status script for snapshot copies
        self._functions: dict[str, tuple] = {}  # name -> (handler, environment)
        self._state_machines: dict[str, str] = {}
        self._lock = threading.RLock()
        self._deadline = None
        self._executions = 0
        self._current_function = None

    # ------------------------------------------------------------ lifecycle
    def __enter__(self):
        if patches.active is not None:
            raise RuntimeError("only one Simulation can be active at a time")
        self._saved_env = {k: os.environ.get(k) for k in _ENV_KEYS}
        os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                          AWS_SESSION_TOKEN="testing", AWS_DEFAULT_REGION=self.region, AWS_REGION=self.region)
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._mock.start()
        patches.install()
        patches.active = self
        clock.now_fn = lambda: self.now
        aurora_aws.client.cache_clear()
        try:
            self._build_world()
        except ClientError as exc:  # the world asks for something AWS (moto) refuses
            self.__exit__(None, None, None)
            error = exc.response.get("Error", {})
            raise WorldError(f"world: cannot be built: {error.get('Code')}: {error.get('Message')}") from None
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        patches.active = None
        clock.now_fn = clock._system_now
        aurora_aws.client.cache_clear()
        self._mock.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _client(self, service: str, region: str | None = None):
        return boto3.client(service, region_name=region or self.region)

    # ------------------------------------------------------------ the world
    def _build_world(self) -> None:
        iam = self._client("iam")
        self._role = iam.create_role(RoleName="aurora-ops-simulated", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        dynamodb = self._client("dynamodb")
        dynamodb.create_table(
            TableName=STATE_TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        for held in self.world["locks"]:
            expires = clock.parse(held["expires_at"]) if "expires_at" in held else self.now + timedelta(hours=1)
            dynamodb.put_item(TableName=STATE_TABLE, Item={
                "pk": {"S": f"lock#{held['cluster']}"}, "owner": {"S": held["owner"]},
                "workflow": {"S": held.get("workflow", "scale-up")},
                "expires_at": {"N": str(int(expires.timestamp()))},
            })
        self._topic = self._client("sns").create_topic(Name="aurora-ops-notifications")["TopicArn"]
        for key in self.world["kms_keys"]:
            kms = self._client("kms", key["region"])
            kms.create_alias(AliasName=key["alias"], TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        for cluster in self.world["clusters"]:
            self._build_cluster(cluster)
        for region in {c["region"] for c in self.world["clusters"]}:  # moto adds automated snapshots of its own
            self._rds_backend(region).cluster_snapshots.clear()
        for snapshot in self.world["snapshots"]:
            self._build_snapshot(snapshot)
        self._publish_cpu()

    def _build_snapshot(self, snapshot: dict) -> None:
        """A cluster snapshot; its cluster may be gone (a stand-in is made and removed)."""
        region = snapshot["region"]
        backend = self._rds_backend(region)
        rds = self._client("rds", region)
        stand_in = snapshot["cluster"] not in backend.clusters
        if stand_in:
            rds.create_db_cluster(DBClusterIdentifier=snapshot["cluster"], Engine=snapshot["engine"],
                                  EngineVersion=snapshot["engine_version"], MasterUsername="simulated",
                                  MasterUserPassword="simulated-password")
        rds.create_db_cluster_snapshot(DBClusterIdentifier=snapshot["cluster"],
                                       DBClusterSnapshotIdentifier=snapshot["id"])
        made = backend.cluster_snapshots[snapshot["id"]]
        made.snapshot_type = snapshot["type"]
        made.status = snapshot["status"]
        made.created = clock.parse(snapshot["created"])
        made.engine, made.engine_version = snapshot["engine"], snapshot["engine_version"]
        made.encrypted = made.storage_encrypted = snapshot["encrypted"]
        if snapshot.get("kms_key"):
            made.kms_key_id = snapshot["kms_key"]
        if stand_in:
            del backend.clusters[snapshot["cluster"]]

    def _publish_cpu(self) -> None:
        """Per-minute CPUUtilization datapoints for every instance with `cpu`:
        a list ends at `now`; a constant covers the longest lookback and more."""
        minutes = max([p.get("scale_down", {}).get("lookback_minutes", 5) for p in self.world["policies"].values()]
                      + [5]) + 60
        for cluster in self.world["clusters"]:
            cloudwatch = self._client("cloudwatch", cluster["region"])
            for instance in cluster["instances"]:
                if "cpu" not in instance:
                    continue
                cpu = instance["cpu"]
                values = cpu if isinstance(cpu, list) else [cpu] * minutes
                data = [{
                    "MetricName": "CPUUtilization",
                    "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance["id"]}],
                    "Timestamp": self.now - timedelta(minutes=len(values) - 1 - index),
                    "Value": float(value), "Unit": "Percent",
                } for index, value in enumerate(values)]
                for start in range(0, len(data), 500):
                    cloudwatch.put_metric_data(Namespace="AWS/RDS", MetricData=data[start:start + 500])

    def _rds_backend(self, region: str):
        from moto.rds.models import rds_backends

        return rds_backends[self.account][region]

    def _build_cluster(self, cluster: dict) -> None:
        rds = self._client("rds", cluster["region"])
        rds.create_db_cluster(
            DBClusterIdentifier=cluster["id"], Engine=cluster["engine"], EngineVersion=cluster["engine_version"],
            MasterUsername="simulated", MasterUserPassword="simulated-password",
            AvailabilityZones=cluster["availability_zones"],
            Tags=[{"Key": k, "Value": v} for k, v in cluster["tags"].items()],
        )
        backend = self._rds_backend(cluster["region"])
        backend.clusters[cluster["id"]].status = cluster["status"]
        family = f"{cluster['engine']}{cluster['engine_version'].split('.')[0]}"
        if cluster["engine"] == "aurora-mysql":
            family = "aurora-mysql8.0"
        for instance in sorted(cluster["instances"], key=lambda i: not i["writer"]):
            group = instance["parameter_group"]
            if group != "default" and group not in backend.db_parameter_groups:
                rds.create_db_parameter_group(DBParameterGroupName=group, DBParameterGroupFamily=family,
                                              Description="simulated")
            rds.create_db_instance(
                DBInstanceIdentifier=instance["id"], DBInstanceClass=instance["class"], Engine=cluster["engine"],
                DBClusterIdentifier=cluster["id"], AvailabilityZone=instance["az"],
                PromotionTier=instance["promotion_tier"],
                **({"DBParameterGroupName": group} if group != "default" else {}),
                **{key: instance[field] for field, key in _INSTANCE_SETTINGS.items() if field in instance},
                Tags=[{"Key": k, "Value": v} for k, v in instance["tags"].items()],
            )
            db = backend.databases[instance["id"]]
            db.status = instance["status"]
            db.instance_create_time = instance["created"]
            db.is_cluster_writer = instance["writer"]
            db.performance_insights_enabled = instance.get("performance_insights", False)  # moto ignores it

    # ------------------------------------------------------------ running
    def _state_machine(self, workflow: str) -> str:
        if workflow in self._state_machines:
            return self._state_machines[workflow]
        machine = self.template.state_machine(asl_file(workflow))
        definition = machine.definition
        for name, value in machine.substitutions.items():
            definition = definition.replace("${%s}" % name, self._resolve(value))
        if "${" in definition:
            raise KeyError(f"{asl_file(workflow)}: a ${{...}} has no DefinitionSubstitutions entry")
        self._timeout = json.loads(definition).get("TimeoutSeconds")
        arn = self._client("stepfunctions").create_state_machine(
            name=machine.logical_id, definition=definition, roleArn=self._role, type=machine.type
        )["stateMachineArn"]
        self._state_machines[workflow] = arn
        return arn

    def _resolve(self, value) -> str:
        """A CloudFormation value of the template, as this simulated stack has it."""
        if isinstance(value, str):
            return value
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            if logical_id in self.template.functions and attribute == "Arn":
                return self._function_arn(logical_id)
        if "Ref" in value:
            ref = value["Ref"]
            known = {
                "PolicyDocument": json.dumps(self.world["policies"]),
                "StateTable": STATE_TABLE,
                "NotificationTopic": self._topic,
                "AWS::Region": self.region,
                "MetricDelaySeconds": "0",  # the world's datapoints are published up to `now`
                "AWS::AccountId": self.account,
            }
            if ref in known:
                return known[ref]
            default = self.template.parameter_default(ref)
            if default is not None:
                return str(default)
        raise KeyError(f"the simulator cannot resolve {value!r} from template.yaml")

    def _function_arn(self, logical_id: str) -> str:
        if logical_id not in self._functions:
            function = self.template.functions[logical_id]
            module_name, attribute = function.handler.rsplit(".", 1)
            handler = getattr(importlib.import_module(module_name), attribute)
            environment = {k: self._resolve(v) for k, v in function.environment.items()}
            self._functions[logical_id] = (handler, environment)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("handler.py", "# the simulator runs the real handler in-process\n")
            self._client("lambda").create_function(
                FunctionName=logical_id, Runtime="python3.13", Role=self._role, Handler=function.handler,
                Code={"ZipFile": buffer.getvalue()},
            )
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{logical_id}"

    def run(self, workflow: str, execution_input) -> dict:
        """Start one execution, wait for it, and return the report."""
        machine_arn = self._state_machine(workflow)
        self._executions += 1
        name = f"sim-{workflow}-{self._executions:03d}"
        first_call, first_invocation = len(self.calls), self.invocations
        started = self.now
        self._deadline = self.now + timedelta(seconds=self._timeout) if self._timeout else None
        sfn = self._client("stepfunctions")
        execution_arn = sfn.start_execution(
            stateMachineArn=machine_arn, name=name, input=json.dumps(execution_input)
        )["executionArn"]
        real_deadline = time.monotonic() + REAL_SECONDS_LIMIT
        while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            if time.monotonic() > real_deadline:
                sfn.stop_execution(executionArn=execution_arn, error="SimulatorTimeout",
                                   cause=f"still running after {REAL_SECONDS_LIMIT} real seconds")
                described = sfn.describe_execution(executionArn=execution_arn)
                break
            time.sleep(0.01)
        with self._lock:  # let the interpreter thread finish writing history
            events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        states = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
        scheduled = sum(1 for e in events if e["type"] == "TaskScheduled")
        task_entries = sum(1 for e in events if e["type"] == "TaskStateEntered")
        output = described.get("output")
        return {
            "workflow": workflow,
            "status": described["status"],
            "error": described.get("error"),
            "cause": described.get("cause"),
            "output": json.loads(output) if output else None,
            "states": states,
            "transitions": len(states) + (scheduled - task_entries),
            "lambda_invocations": self.invocations - first_invocation,
            "aws_calls": self.calls[first_call:],
            "world": self.dump_world(),
            # extensions
            "execution_name": name,
            "simulated_seconds": (self.now - started).total_seconds(),
            "metrics": [m for m in self.metrics if m["execution"] == name],
        }

    # -------------------------------------------- hooks called by patches
    def advance(self, seconds: float, env) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)
            if env is not None and self._deadline is not None and self.now > self._deadline:
                env.set_timed_out()

    def invoke(self, function_arn: str, body) -> tuple[bytes, bool]:
        logical_id = function_arn.rsplit(":", 1)[-1]
        handler, environment = self._functions[logical_id]
        event = json.loads(body) if body else {}
        with self._lock:  # moto backends are not thread-safe: one handler at a time
            self.invocations += 1
            saved = {k: os.environ.get(k) for k in environment}
            os.environ.update(environment)
            captured = io.StringIO()
            patches.in_handler.on = True
            self._current_function = logical_id
            try:
                with contextlib.redirect_stdout(captured):
                    result = handler(event, _Context(logical_id, function_arn, f"sim-{self.invocations}"))
                return json.dumps(result).encode(), False
            except Exception as exc:  # the Lambda runtime's error shape
                error = {"errorType": type(exc).__name__, "errorMessage": str(exc),
                         "stackTrace": traceback.format_tb(exc.__traceback__)}
                return json.dumps(error).encode(), True
            finally:
                patches.in_handler.on = False
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                self._collect_output(captured.getvalue(), event)

    def _collect_output(self, text: str, event) -> None:
        """Handlers' stdout goes to stderr (the report owns stdout); EMF metrics are kept."""
        execution = (event.get("execution_name") or (event.get("state") or {}).get("execution_name")) if isinstance(event, dict) else None
        for line in text.splitlines():
            if self.echo_handler_output:
                sys.stderr.write(line + "\n")
            try:
                blob = json.loads(line)
            except ValueError:
                continue
            if isinstance(blob, dict) and "_aws" in blob:
                for directive in blob["_aws"]["CloudWatchMetrics"]:
                    dimensions = {d: blob[d] for group in directive["Dimensions"] for d in group}
                    for metric in directive["Metrics"]:
                        self.metrics.append({"execution": execution, "namespace": directive["Namespace"],
                                             "name": metric["Name"], "unit": metric.get("Unit"),
                                             "value": blob[metric["Name"]], "dimensions": dimensions})

    def api_call(self, client, operation: str, params: dict, original):
        service = client.meta.service_model.service_name
        region = client.meta.region_name
        record = {"service": service, "operation": operation, "params": _jsonable(params), "error": None,
                  "function": self._current_function}
        self.calls.append(record)
        code = self._injected_error(service, operation, params)
        if code:
            record["error"] = code
            raise client.exceptions.from_code(code)(
                {"Error": {"Code": code, "Message": f"simulated fault: {code}"}}, operation
            )
        if service == "rds" and operation == "DescribeOrderableDBInstanceOptions":
            return self._orderable_options(region, params)
        if service == "rds" and operation == "DescribeDBInstances":
            self._advance_instance_statuses(region, params)
        if service == "rds" and operation == "DescribeDBClusters":
            self._advance(self.tracked_clusters, region, params.get("DBClusterIdentifier"),
                          self._rds_backend(region).clusters, "creating")
        if service == "rds" and operation == "DescribeDBClusterSnapshots":
            self._advance(self.tracked_snapshots, region, params.get("DBClusterSnapshotIdentifier"),
                          self._rds_backend(region).cluster_snapshots, "copying")
        if service == "rds" and operation == "CopyDBClusterSnapshot" and \
                params["SourceDBClusterSnapshotIdentifier"].split(":")[3:4] not in ([], [region]):
            result = self._copy_across_regions(client, region, params, original)
            self._copied(region, params["TargetDBClusterSnapshotIdentifier"])
            return result
        doomed = None
        if service == "rds" and operation == "DeleteDBInstance":
            doomed = self._rds_backend(region).databases.get(params.get("DBInstanceIdentifier"))
        try:
            result = original(client, operation, params)
        except ClientError as exc:
            record["error"] = exc.response.get("Error", {}).get("Code")
            raise
        if service == "rds" and operation == "CreateDBInstance":
            self._created(region, params)
        elif service == "rds" and operation == "DeleteDBInstance":
            self._deleted(region, doomed)
        elif service == "rds" and operation in ("RestoreDBClusterFromSnapshot", "RestoreDBClusterToPointInTime"):
            self._restored(region, params["DBClusterIdentifier"])
        elif service == "rds" and operation == "CopyDBClusterSnapshot":
            self._copied(region, params["TargetDBClusterSnapshotIdentifier"])
        elif service == "rds" and operation == "DescribeDBClusters":
            self._restorable_window(region, result)
        return result

    # ------------------------------------------------------------ RDS model
    def _injected_error(self, service: str, operation: str, params: dict) -> str | None:
        for fault in self.faults["api_errors"]:
            if fault["operation"] == operation and fault["times"] > 0:
                fault["times"] -= 1
                return fault["code"]
        if service == "rds" and operation == "CreateDBInstance":
            instance_class, az = params.get("DBInstanceClass"), params.get("AvailabilityZone")
            if any(_matches(f, instance_class, az) for f in self.faults["insufficient_capacity"]):
                return "InsufficientDBInstanceCapacity"
            if any(_matches(f, instance_class, az) for f in self.faults["not_orderable"]):
                return "InvalidParameterCombination"
        return None

    def _orderable_options(self, region: str, params: dict) -> dict:
        """Every class is orderable in every AZ of its region unless the world says otherwise."""
        instance_class = params["DBInstanceClass"]
        azs = [f"{region}{s}" for s in "abcdef"]
        azs = [az for az in azs if not any(_matches(f, instance_class, az) for f in self.faults["not_orderable"])]
        options = [{
            "Engine": params.get("Engine"), "EngineVersion": params.get("EngineVersion"),
            "DBInstanceClass": instance_class, "Vpc": True,
            "AvailabilityZones": [{"Name": az} for az in azs],
        }] if azs else []
        return {"OrderableDBInstanceOptions": options}

    def _created(self, region: str, params: dict) -> None:
        instance_id = params["DBInstanceIdentifier"]
        lost = any(_matches(f, params.get("DBInstanceClass"), params.get("AvailabilityZone"))
                   for f in self.faults["capacity_lost"])
        self.tracked[instance_id] = {"region": region, "phase": "creating", "polls": 0,
                                     "final": "insufficient-capacity" if lost else "available"}
        backend = self._rds_backend(region)
        db = backend.databases[instance_id]
        db.status = "creating"
        members = [m for m in backend.databases.values()
                   if getattr(m, "db_cluster_identifier", None) == db.db_cluster_identifier and m is not db]
        for member in members:  # moto re-designates a deleting instance when nothing else is left
            if member.status == "deleting":
                member.is_cluster_writer = False
        if not any(m.is_cluster_writer for m in members):  # a cluster without a live writer gets this one
            db.is_cluster_writer = True
        db.instance_create_time = clock.iso(self.now)
        db.performance_insights_enabled = params.get("EnablePerformanceInsights", False)  # moto ignores it

    def _restored(self, region: str, cluster_id: str) -> None:
        final = next((f["status"] for f in self.faults["restore_ends_in"] if f["cluster"] == cluster_id), "available")
        backend = self._rds_backend(region)
        restored = backend.clusters[cluster_id]
        restored.status = "creating"
        if not all(az.startswith(region) for az in restored.availability_zones or []):
            # moto copies the source's AZs; the target's subnet group is in its own region
            restored.availability_zones = [f"{region}{letter}" for letter in "abc"]
        for snapshot_id, snapshot in list(backend.cluster_snapshots.items()):  # moto's own automated backup
            if snapshot.db_cluster_identifier == cluster_id and snapshot.snapshot_type == "automated":
                del backend.cluster_snapshots[snapshot_id]
        self.tracked_clusters[(region, cluster_id)] = {"polls": 0, "final": final}

    def _advance(self, scripts: dict, region: str, wanted: str | None, live: dict, pending: str) -> None:
        """One describe of the tracked resources in `live` (moto's dict) that it returns:
        `pending` for polls_until_available describes, then the script's final status."""
        for (where, resource_id), script in list(scripts.items()):
            if where != region or wanted not in (None, resource_id) or resource_id not in live:
                continue
            script["polls"] += 1
            # set on every poll: moto's own "creating" turns "available" after one read
            if script["polls"] <= self.timing["polls_until_available"]:
                live[resource_id].status = pending
            else:
                live[resource_id].status = script["final"]
                del scripts[(where, resource_id)]

    def _restorable_window(self, region: str, result: dict) -> None:
        """moto reports `now` as the latest restorable time; the world says otherwise."""
        known = {(c["region"], c["id"]): c for c in self.world["clusters"]}
        for cluster in result.get("DBClusters", []):
            world_cluster = known.get((region, cluster["DBClusterIdentifier"]))
            if world_cluster:
                cluster["EarliestRestorableTime"] = clock.parse(world_cluster["earliest_restorable_time"])
                cluster["LatestRestorableTime"] = clock.parse(world_cluster["latest_restorable_time"])

    def _copy_across_regions(self, client, region: str, params: dict, original) -> dict:
        """moto copies snapshots within a region only: make the copy in the target region here."""
        from moto.rds.models import DBClusterSnapshot

        source_arn = params["SourceDBClusterSnapshotIdentifier"]
        source = self._rds_backend(source_arn.split(":")[3]).get_db_cluster_snapshot(source_arn.rsplit(":", 1)[-1])
        target = self._rds_backend(region)
        kms = target._validate_kms_key(params["KmsKeyId"]) if params.get("KmsKeyId") else None
        if source.encrypted and not kms:
            raise client.exceptions.from_code("InvalidParameterValue")(
                {"Error": {"Code": "InvalidParameterValue",
                           "Message": "KmsKeyId is required to copy an encrypted snapshot across regions"}},
                "CopyDBClusterSnapshot")
        target_id = params["TargetDBClusterSnapshotIdentifier"]
        if target_id in target.cluster_snapshots:
            raise client.exceptions.from_code("DBClusterSnapshotAlreadyExistsFault")(
                {"Error": {"Code": "DBClusterSnapshotAlreadyExistsFault", "Message": target_id}}, "CopyDBClusterSnapshot")
        copy = DBClusterSnapshot(target, source.cluster, target_id, tags=params.get("Tags", []), kms_key_id=kms)
        copy.engine, copy.engine_version = source.engine, source.engine_version
        target.cluster_snapshots[target_id] = copy
        described = original(client, "DescribeDBClusterSnapshots", {"DBClusterSnapshotIdentifier": target_id})
        return {"DBClusterSnapshot": described["DBClusterSnapshots"][0]}

    def _copied(self, region: str, snapshot_id: str) -> None:
        self._rds_backend(region).cluster_snapshots[snapshot_id].status = "copying"
        self.tracked_snapshots[(region, snapshot_id)] = {"polls": 0, "final": "available"}

    def _deleted(self, region: str, db) -> None:
        """moto deletes at once; keep the instance in `deleting` for polls_until_deleted describes."""
        instance_id = db.db_instance_identifier
        self.tracked.pop(instance_id, None)
        if getattr(db, "is_cluster_writer", False):  # Aurora fails over to a remaining instance
            db.is_cluster_writer = False
            backend = self._rds_backend(region)
            others = sorted((m for m in backend.databases.values() if m is not db and m.status != "deleting"
                             and getattr(m, "db_cluster_identifier", None) == db.db_cluster_identifier),
                            key=lambda m: m.promotion_tier)
            if others:
                others[0].is_cluster_writer = True
        if self.timing["polls_until_deleted"] > 0:
            self._rds_backend(region).databases[instance_id] = db
            db.status = "deleting"
            self.tracked[instance_id] = {"region": region, "phase": "deleting", "polls": 0}

    def _advance_instance_statuses(self, region: str, params: dict) -> None:
        backend = self._rds_backend(region)
        wanted_id = params.get("DBInstanceIdentifier")
        clusters = {v.rsplit(":", 1)[-1] for f in params.get("Filters", []) if f["Name"] == "db-cluster-id" for v in f["Values"]}
        for instance_id, script in list(self.tracked.items()):
            db = backend.databases.get(instance_id)
            if script["region"] != region or db is None:
                continue
            if wanted_id and wanted_id != instance_id:
                continue
            if clusters and db.db_cluster_identifier not in clusters:
                continue
            script["polls"] += 1
            if script["phase"] == "creating":
                limit = self.timing["polls_until_available"]
                db.status = "creating" if script["polls"] <= limit else script["final"]
                if script["polls"] > limit:
                    del self.tracked[instance_id]
            elif script["polls"] > self.timing["polls_until_deleted"]:
                del backend.databases[instance_id]
                del self.tracked[instance_id]

    # ------------------------------------------------------------ reporting
    def _regions(self) -> list[str]:
        regions = {self.region} | {c["region"] for c in self.world["clusters"]} | {s["region"] for s in self.world["snapshots"]}
        from moto.rds.models import rds_backends

        return sorted(regions | {r for r, b in rds_backends[self.account].items() if b.clusters or b.cluster_snapshots})

    def dump_world(self) -> dict:
        """The world now, in the world format (clusters and snapshots a workflow made included)."""
        world = copy.deepcopy(self.world)
        world["now"] = clock.iso(self.now)
        world["faults"] = copy.deepcopy(self.faults)
        cpu = {i["id"]: i["cpu"] for c in self.world["clusters"] for i in c["instances"] if "cpu" in i}
        listed = {(c["region"], c["id"]): c for c in world["clusters"]}
        for region in self._regions():
            backend = self._rds_backend(region)
            for cluster_id, live in backend.clusters.items():
                if (region, cluster_id) not in listed:
                    listed[(region, cluster_id)] = {
                        "id": cluster_id, "region": region, "engine": live.engine, "engine_version": live.engine_version,
                        "availability_zones": list(live.availability_zones or []),
                        "tags": {t["Key"]: t["Value"] for t in live.tags or []}}
                    world["clusters"].append(listed[(region, cluster_id)])
        for (region, cluster_id), cluster in listed.items():
            backend = self._rds_backend(region)
            live = backend.clusters.get(cluster_id)
            cluster["status"] = live.status if live else "deleted"
            cluster["instances"] = [self._dump_instance(db, cpu) for db in backend.databases.values()
                                    if getattr(db, "db_cluster_identifier", None) == cluster_id]
        world["snapshots"] = [
            {"id": snapshot_id, "cluster": snap.db_cluster_identifier, "region": region, "type": snap.snapshot_type,
             "created": clock.iso(snap.created), "status": snap.status, "engine": snap.engine,
             "engine_version": snap.engine_version, "encrypted": bool(snap.storage_encrypted),
             **({"kms_key": snap.kms_key_id} if snap.kms_key_id else {}),
             **({"tags": {t["Key"]: t["Value"] for t in snap.tags}} if snap.tags else {})}
            for region in self._regions()
            for snapshot_id, snap in self._rds_backend(region).cluster_snapshots.items()
        ]
        items = self._client("dynamodb").scan(TableName=STATE_TABLE)["Items"]
        world["locks"] = [
            {"cluster": item["pk"]["S"].split("#", 1)[1], "owner": item["owner"]["S"],
             "workflow": item.get("workflow", {}).get("S", ""),
             "expires_at": clock.iso(clock.parse("1970-01-01T00:00:00Z") + timedelta(seconds=int(item["expires_at"]["N"])))}
            for item in items if item["pk"]["S"].startswith("lock#")
        ]
        world["operations"] = [  # extension: restore operation records
            {"id": item["pk"]["S"].split("#", 1)[1], "status": item["status"]["S"],
             "steps": sorted(k.removeprefix("step_") for k in item if k.startswith("step_")),
             "audit": len(item.get("audit", {}).get("L", []))}
            for item in items if item["pk"]["S"].startswith("operation#")
        ]
        return world

    @staticmethod
    def _dump_instance(db, cpu: dict) -> dict:
        instance = {
            "id": db.db_instance_identifier,
            "class": db.db_instance_class,
            "az": db.availability_zone,
            "writer": bool(db.is_cluster_writer),
            "status": db.status,
            "promotion_tier": db.promotion_tier,
            "parameter_group": db.db_parameter_group_name or "default",
            "created": db.instance_create_time if isinstance(db.instance_create_time, str) else clock.iso(db.instance_create_time),
            "tags": {t["Key"]: t["Value"] for t in db.tags},
        }
        if db.db_instance_identifier in cpu:
            instance["cpu"] = cpu[db.db_instance_identifier]
        return instance


def simulate(workflow: str, world, execution_input, root: Path = ROOT, echo_handler_output: bool = True) -> dict:
    """One execution in a fresh simulated account: the report of the contract."""
    asl_file(workflow)
    with Simulation(world, root, echo_handler_output) as simulation:
        return simulation.run(workflow, execution_input)
