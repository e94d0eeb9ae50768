"""The engine: a real state machine from template.yaml, run by moto's Step
Functions with the real handlers in process, against a world built in moto."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
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

from aurora_ops.aws import clients as aurora_clients
from aurora_ops.core import clock

from . import patches
from .faults import Faults
from .report import emf_metrics, execution_report
from .template import Template
from .world import WorldError, load_world
from .world.build import STATE_TABLE, build_world
from .world.dump import dump_world
from .world.rds_model import RdsModel

ROOT = Path(__file__).resolve().parents[2]
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
WORKFLOWS = ("scale-up", "scale-down", "snapshot-restore")
REAL_SECONDS_LIMIT = 300  # a simulated execution that runs longer than this (real time) is stopped
_ENV_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION")


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
        self.faults = Faults(self.world["faults"])
        self.rds = RdsModel(self.world, self.faults, lambda: self.now)
        self.calls: list[dict] = []
        self.metrics: list[dict] = []
        self.invocations = 0
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
        aurora_clients.client.cache_clear()
        try:
            built = build_world(self.world)
        except ClientError as exc:  # the world asks for something AWS (moto) refuses
            self.__exit__(None, None, None)
            error = exc.response.get("Error", {})
            raise WorldError(f"world: cannot be built: {error.get('Code')}: {error.get('Message')}") from None
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self._role, self._topic = built.role_arn, built.topic_arn
        return self

    def __exit__(self, *exc):
        patches.active = None
        clock.now_fn = clock._system_now
        aurora_clients.client.cache_clear()
        self._mock.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _client(self, service: str, region: str | None = None):
        return boto3.client(service, region_name=region or self.region)

    def dump_world(self) -> dict:
        """The world now, in the world format (clusters and snapshots a workflow made included)."""
        return dump_world(self.world, self.now, self.faults.state)

    # ------------------------------------------------------------ the stack
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

    # ------------------------------------------------------------ running
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
        return execution_report(
            workflow=workflow, name=name, described=described, events=events,
            invocations=self.invocations - first_invocation, aws_calls=self.calls[first_call:],
            world=self.dump_world(), simulated_seconds=(self.now - started).total_seconds(),
            metrics=[m for m in self.metrics if m["execution"] == name],
        )

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
                execution = None
                if isinstance(event, dict):
                    execution = event.get("execution_name") or (event.get("state") or {}).get("execution_name")
                self.metrics.extend(emf_metrics(captured.getvalue(), execution, self.echo_handler_output))

    def api_call(self, client, operation: str, params: dict, original):
        """Every AWS call a handler makes: recorded, failed if a fault says so,
        and for RDS wrapped in the model of what real RDS does."""
        service = client.meta.service_model.service_name
        region = client.meta.region_name
        record = {"service": service, "operation": operation, "params": _jsonable(params), "error": None,
                  "function": self._current_function}
        self.calls.append(record)
        code = self.faults.api_error(service, operation, params)
        if code:
            record["error"] = code
            raise client.exceptions.from_code(code)(
                {"Error": {"Code": code, "Message": f"simulated fault: {code}"}}, operation
            )
        if service == "rds":
            answered = self.rds.before(client, region, operation, params, original)
            if answered is not None:
                return answered
        try:
            result = original(client, operation, params)
        except ClientError as exc:
            record["error"] = exc.response.get("Error", {}).get("Code")
            raise
        if service == "rds":
            self.rds.after(region, operation, params, result)
        return result


def simulate(workflow: str, world, execution_input, root: Path = ROOT, echo_handler_output: bool = True) -> dict:
    """One execution in a fresh simulated account: the report of the contract."""
    asl_file(workflow)
    with Simulation(world, root, echo_handler_output) as simulation:
        return simulation.run(workflow, execution_input)
