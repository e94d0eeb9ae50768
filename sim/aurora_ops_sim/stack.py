"""template.yaml as deployed into the simulated account: each state machine with
its substitutions resolved, each function registered with moto and bound to
its real handler and environment."""

from __future__ import annotations

import importlib
import io
import json
import zipfile
from dataclasses import dataclass, field

from .clients import client
from .template import Template
from .world.build import STATE_TABLE

# Parameters the simulated stack is deployed with unless the world's `parameters`
# say otherwise. RestoreTargetPattern bounds what IAM lets a restore tag; IAM is not
# simulated, so here its only effect would be refusing the world's own target names.
SIMULATED_DEFAULTS = {"RestoreTargetPattern": "*"}
EXPRESS_LIMIT_SECONDS = 300  # Express executions end after 5 minutes whatever their TimeoutSeconds


@dataclass(frozen=True)
class DeployedMachine:
    arn: str
    type: str  # STANDARD | EXPRESS
    timeout_seconds: float | None  # the execution's limit (Express: at most 300)
    task_timeouts: dict = field(default_factory=dict)  # Task state name -> TimeoutSeconds (ASL default 60)
    workflow: str = ""  # its short name: statemachines/snapshot_restore.asl.json -> snapshot-restore


def task_states(states: dict) -> dict[str, dict]:
    """Every Task state by name, Map iterators and Parallel branches included."""
    found = {}
    for name, state in states.items():
        if state["Type"] == "Task":
            found[name] = state
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                found.update(task_states(state[key]["States"]))
        for branch in state.get("Branches", []):
            found.update(task_states(branch["States"]))
    return found


class SimulatedStack:
    def __init__(self, template: Template, world: dict, role_arn: str, topic_arn: str):
        self.template = template
        self.world = world
        self.region = world["region"]
        self.account = world["account_id"]
        self.role_arn = role_arn
        self.topic_arn = topic_arn
        self.functions: dict[str, tuple] = {}  # logical id -> (handler, environment)
        self._machines: dict[str, DeployedMachine] = {}
        self._deploying: set[str] = set()  # state machines whose substitutions are being resolved

    def _client(self, service: str):
        return client(service, self.region)

    def state_machine(self, asl_file: str) -> DeployedMachine:
        if asl_file in self._machines:
            return self._machines[asl_file]
        if asl_file in self._deploying:  # CloudFormation refuses a circular dependency too
            raise KeyError(f"{asl_file}: its DefinitionSubstitutions refer back to itself")
        self._deploying.add(asl_file)
        try:
            return self._deploy(asl_file)
        finally:
            self._deploying.discard(asl_file)

    def machine_by_arn(self, arn: str) -> DeployedMachine | None:
        """The stack's state machine with this ARN (None for one the stack did not deploy)."""
        return next((m for m in self._machines.values() if m.arn == arn), None)

    def _deploy(self, asl_file: str) -> DeployedMachine:
        machine = self.template.state_machine(asl_file)
        definition = machine.definition
        for name, value in machine.substitutions.items():
            definition = definition.replace("${%s}" % name, self.resolve(value))
        if "${" in definition:
            raise KeyError(f"{asl_file}: a ${{...}} has no DefinitionSubstitutions entry")
        parsed = json.loads(definition)
        timeout = parsed.get("TimeoutSeconds")
        if machine.type == "EXPRESS":
            timeout = min(timeout or EXPRESS_LIMIT_SECONDS, EXPRESS_LIMIT_SECONDS)
        arn = self._client("stepfunctions").create_state_machine(
            name=machine.logical_id, definition=definition, roleArn=self.role_arn, type=machine.type
        )["stateMachineArn"]
        timeouts = {name: task.get("TimeoutSeconds", 60) for name, task in task_states(parsed["States"]).items()}
        workflow = asl_file.rsplit("/", 1)[-1].removesuffix(".asl.json").replace("_", "-")
        self._machines[asl_file] = DeployedMachine(arn, machine.type, timeout, timeouts, workflow)
        return self._machines[asl_file]

    def resolve(self, value) -> str:
        """A CloudFormation value of the template, as this simulated stack has it."""
        if isinstance(value, str):
            return value
        if "Fn::Join" in value:  # a list parameter handed over as one variable
            separator, parts = value["Fn::Join"]
            parts = self.resolve(parts) if isinstance(parts, dict) else [self.resolve(p) for p in parts]
            return separator.join(parts.split(",") if isinstance(parts, str) else parts)
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            if logical_id in self.template.functions and attribute == "Arn":
                return self.function_arn(logical_id)
        if "Ref" in value:
            ref = value["Ref"]
            known = {
                "PolicyDocument": json.dumps(self.world["policies"]),
                "StateTable": STATE_TABLE,
                "NotificationTopic": self.topic_arn,
                "AWS::Region": self.region,
                "MetricDelaySeconds": "0",  # the world's datapoints are published up to `now`
                "AWS::AccountId": self.account,
            }
            if ref in known:
                return known[ref]
            if ref in self.world.get("parameters", {}):
                return str(self.world["parameters"][ref])
            if ref in SIMULATED_DEFAULTS:
                return SIMULATED_DEFAULTS[ref]
            resource = self.template.resources.get(ref, {})
            if resource.get("Type") == "AWS::Serverless::StateMachine":  # Ref: the state machine's ARN
                return self.state_machine(resource["Properties"]["DefinitionUri"]).arn
            default = self.template.parameter_default(ref)
            if default is not None:
                return str(default)
        raise KeyError(f"the simulator cannot resolve {value!r} from template.yaml")

    def function_arn(self, logical_id: str) -> str:
        if logical_id not in self.functions:
            function = self.template.functions[logical_id]
            module_name, attribute = function.handler.rsplit(".", 1)
            handler = getattr(importlib.import_module(module_name), attribute)
            environment = {k: self.resolve(v) for k, v in function.environment.items()}
            self.functions[logical_id] = (handler, environment)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("handler.py", "# the simulator runs the real handler in-process\n")
            self._client("lambda").create_function(
                FunctionName=logical_id, Runtime="python3.13", Role=self.role_arn, Handler=function.handler,
                Code={"ZipFile": buffer.getvalue()},
            )
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{logical_id}"
