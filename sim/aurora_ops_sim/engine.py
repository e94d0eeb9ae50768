"""The engine: a real state machine from template.yaml, run by moto's Step
Functions with the real handlers in process, against a world built in moto."""

from __future__ import annotations

import json
import os
import threading
from datetime import timedelta
from pathlib import Path

from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from aurora_ops.core import clock

from . import patches
from .clients import client
from .executions import REAL_SECONDS_LIMIT, ExecutionSide
from .faults import Faults
from .lambdas import LambdaSide, current_task
from .report import execution_report, notifications
from .stack import SimulatedStack
from .template import Template
from .world import WorldError, load_world
from .world.build import build_world
from .world.data_api import DataApi
from .world.dsql_model import DsqlClusters
from .world.dump import dump_world
from .world.rds_model import RdsModel

ROOT = Path(__file__).resolve().parents[2]
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
WORKFLOWS = ("scale-up", "scale-down", "snapshot-restore", "failover", "restore-drill", "dr-readiness")
__all__ = ["REAL_SECONDS_LIMIT", "Simulation", "UnknownWorkflow", "asl_file", "simulate"]
_ENV_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION")


class UnknownWorkflow(Exception):
    pass


def asl_file(workflow: str) -> str:
    if workflow not in WORKFLOWS:
        raise UnknownWorkflow(f"unknown workflow {workflow!r}; known: {', '.join(WORKFLOWS)}")
    return f"statemachines/{workflow.replace('-', '_')}.asl.json"


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


class Simulation(LambdaSide, ExecutionSide):
    """A simulated account built from a world. Use as a context manager; `run`
    any number of executions, which share the world (and its clock)."""

    def __init__(self, world, root: Path = ROOT, echo_handler_output: bool = True):
        self.echo_handler_output = echo_handler_output
        self.world = load_world(world)
        self.root = Path(root)
        self.template = Template.shared(self.root)
        self.account = self.world["account_id"]
        self.region = self.world["region"]
        self.now = clock.parse(self.world["now"])
        self.faults = Faults(self.world["faults"])
        self.rds = RdsModel(self.world, self.faults, lambda: self.now)
        self.dsql = DsqlClusters(self.world)
        self.data_api = DataApi(self.world, self.faults, self._charge)
        self.calls: list[dict] = []
        self.metrics: list[dict] = []
        self.invocations = 0
        self._lock = threading.RLock()
        self._executions = 0
        self._current_function = None
        self._started = self.now  # the running top-level execution's start on the simulated clock
        self._init_executions()

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
        patches.fresh_retry_quotas()
        try:
            built = build_world(self.world)
        except ClientError as exc:  # the world asks for something AWS (moto) refuses
            self.__exit__(None, None, None)
            error = exc.response.get("Error", {})
            raise WorldError(f"world: cannot be built: {error.get('Code')}: {error.get('Message')}") from None
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self._role = built.role_arn
        self.stack = SimulatedStack(self.template, self.world, built.role_arn, built.topic_arn)
        return self

    def __exit__(self, *exc):
        patches.active = None
        clock.now_fn = clock._system_now
        self._mock.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _client(self, service: str, region: str | None = None):
        return client(service, region or self.region)

    def dump_world(self) -> dict:
        """The world now, in the world format (clusters and snapshots a workflow made included)."""
        return self.data_api.annotate(dump_world(self.world, self.now, self.faults.state))

    def _function_arn(self, logical_id: str) -> str:
        return self.stack.function_arn(logical_id)

    # ------------------------------------------------------------ running
    def run(self, workflow: str, execution_input) -> dict:
        """Start one execution (and its duplicate, when the world says so), wait, report."""
        first_call, first_child, started = len(self.calls), len(self.children), self.now
        machine = self.stack.state_machine(asl_file(workflow))
        self._started = self.now
        first = self._execute(workflow, machine, execution_input)
        duplicate = None
        if self.faults.duplicate_start:  # only the top-level execution is started again
            self._started = self.now
            duplicate = self._execute(workflow, machine, execution_input)
        definition = json.loads((self.root / asl_file(workflow)).read_text())
        report = execution_report(
            workflow=workflow, name=first["name"], described=first["described"], events=first["events"],
            invocations=first["invocations"], aws_calls=first["aws_calls"], world=self.dump_world(),
            simulated_seconds=(self.now - started).total_seconds(),
            metrics=[m for m in self.metrics if m["execution"] == first["name"]], definition=definition,
        )
        report["notifications"] = notifications(self.calls[first_call:])
        report["nested_executions"] = self.nested_reports(first_child)
        if duplicate:
            described = duplicate["described"]
            again = execution_report(
                workflow=workflow, name=duplicate["name"], described=described, events=duplicate["events"],
                invocations=duplicate["invocations"], aws_calls=duplicate["aws_calls"], world={},
                simulated_seconds=0, metrics=[], definition=definition)
            report["duplicate"] = {"execution_name": duplicate["name"], "status": described["status"],
                                   "error": described.get("error"), "cause": described.get("cause"),
                                   "output": again["output"], "aws_calls": duplicate["aws_calls"],
                                   **{k: again[k] for k in ("states", "transitions", "lambda_invocations",
                                                            "started_at", "timeline")}}
        return report

    def _charge(self, milliseconds: float) -> None:
        """Simulated time spent inside a Lambda invocation or an AWS call."""
        self.now += timedelta(milliseconds=milliseconds)

    # -------------------------------------------- hooks called by patches
    def api_call(self, client, operation: str, params: dict, original):
        """Every AWS call a handler makes: recorded, failed if a fault says so,
        and for RDS wrapped in the model of what real RDS does."""
        service = client.meta.service_model.service_name
        region = client.meta.region_name
        record = {"service": service, "operation": operation, "params": _jsonable(params), "error": None,
                  "function": self._current_function, "region": region,
                  "at": round((self.now - self._started).total_seconds(), 3),
                  "task": getattr(current_task, "event", None), "execution": getattr(current_task, "execution", None)}
        self.calls.append(record)
        self._charge(self.world["timing"]["api_ms"])
        code = self.faults.api_error(service, operation, params)
        if code == "EndpointConnectionError":  # a transport error: no HTTP answer at all
            record["error"] = code
            raise EndpointConnectionError(endpoint_url=f"https://{service}.{region}.amazonaws.com/")
        if code:
            record["error"] = code
            raise client.exceptions.from_code(code)(
                {"Error": {"Code": code, "Message": f"simulated fault: {code}"}}, operation
            )
        try:
            answered = self.data_api.before(client, region, operation, params) \
                if service in ("rds", "rds-data") else None
            if answered is None and service == "rds":
                answered = self.rds.before(client, region, operation, params, original)
            if service == "dsql":
                answered = self.dsql.before(client, region, operation, params)
            result = answered if answered is not None else original(client, operation, params)
        except ClientError as exc:
            record["error"] = exc.response.get("Error", {}).get("Code")
            raise
        if service == "rds":
            if answered is None:
                self.rds.after(region, operation, params, result)
            self.data_api.after(region, operation, params, result)
        return _with_statuses(record, result)


_LISTED = {"DBInstances": ("DBInstanceIdentifier", "DBInstanceStatus"), "DBClusters": ("DBClusterIdentifier", "Status"),
           "DBClusterSnapshots": ("DBClusterSnapshotIdentifier", "Status"),
           "GlobalClusters": ("GlobalClusterIdentifier", "Status")}
MAX_STATUSES = 20  # a fleet's listing is not repeated in the report


def _with_statuses(record: dict, answer):
    """The status of each resource an RDS describe answered with ({id: status}, in the
    call's record), so a timeline can say what each poll saw."""
    if record["operation"].startswith("Describe") and isinstance(answer, dict):
        for key, (id_field, status_field) in _LISTED.items():
            listed = answer.get(key)
            if isinstance(listed, list) and len(listed) <= MAX_STATUSES:
                record["statuses"] = {r.get(id_field): r.get(status_field) for r in listed}
    return answer


def simulate(workflow: str, world, execution_input, root: Path = ROOT, echo_handler_output: bool = True) -> dict:
    """One execution in a fresh simulated account: the report of the contract."""
    asl_file(workflow)
    with Simulation(world, root, echo_handler_output) as simulation:
        return simulation.run(workflow, execution_input)
