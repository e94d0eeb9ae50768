"""Executions on the simulated clock: a top-level execution started and awaited, each
execution's own TimeoutSeconds (a nested child's too), and the nested executions a
Task starts with `states:startExecution` (`.sync`, `.sync:2` or plain), each reported
on its own as AWS bills it. A mixin of Simulation: it shares the clock and the stack."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import timedelta

from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

from .report import execution_report

REAL_SECONDS_LIMIT = 300  # a simulated execution that runs longer than this (real time) is stopped
_POLL = 0.002  # real seconds between two looks at a running execution (no API call, no simulated time)

# The child execution the StartExecution of this thread's Task started (its `.sync` wait follows).
_started_here = threading.local()


def context_of(env) -> dict:
    """The context object of an interpreter environment: `Execution` (`Id`, `Name`) and `StateMachine`."""
    return env.states.context_object.context_object_data


class ExecutionSide:
    def _init_executions(self) -> None:
        self._deadlines: dict[str, object] = {}  # execution ARN -> its TimeoutSeconds on the simulated clock
        self.children: list[dict] = []  # every nested execution started, in order
        self.invocations_by_execution: Counter = Counter()  # execution ARN -> Lambda invocations

    # ------------------------------------------------------------ top level
    def _execute(self, workflow: str, machine, execution_input) -> dict:
        """Start one top-level execution, wait for it (and for every child it started), describe it."""
        self._executions += 1
        name = f"sim-{workflow}-{self._executions:03d}"
        first_call = len(self.calls)
        sfn = self._client("stepfunctions")
        with self._lock:
            arn = sfn.start_execution(stateMachineArn=machine.arn, name=name,
                                      input=json.dumps(execution_input))["executionArn"]
            self._started_at(arn, machine)
        real_deadline = time.monotonic() + REAL_SECONDS_LIMIT
        while self._running([arn] + [c["arn"] for c in self.children]):  # read from moto: no API call per poll
            if time.monotonic() > real_deadline:
                for running in [arn] + [c["arn"] for c in self.children]:
                    if self._moto_execution(running).status == "RUNNING":
                        sfn.stop_execution(executionArn=running, error="SimulatorTimeout",
                                           cause=f"still running after {REAL_SECONDS_LIMIT} real seconds")
                break
            time.sleep(_POLL)
        described, events = self._describe(arn)
        return {"name": name, "arn": arn, "described": described, "events": events,
                "invocations": self.invocations_by_execution[arn], "aws_calls": self.calls[first_call:]}

    def _running(self, arns: list[str]) -> bool:
        return any(self._moto_execution(arn).status == "RUNNING" for arn in arns)

    def _describe(self, arn: str) -> tuple[dict, list[dict]]:
        sfn = self._client("stepfunctions")
        with self._lock:  # let the interpreter thread finish writing history
            described = sfn.describe_execution(executionArn=arn)
            events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return described, events

    def _moto_execution(self, arn: str):
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        return stepfunctions_parser_backends[self.account][arn.split(":")[3]].describe_execution(arn)

    # ------------------------------------------------------------ deadlines
    def _started_at(self, arn: str, machine) -> None:
        """The execution's own TimeoutSeconds (300 s for Express) starts counting now."""
        timeout = machine.timeout_seconds if machine else None
        if timeout:
            self._deadlines[arn] = self.now + timedelta(seconds=timeout)

    def _check_deadlines(self, env=None) -> bool:
        """Whatever is past its deadline ends: an execution past its TimeoutSeconds times out (its
        `.sync` children are stopped), a child past its parent Task's TimeoutSeconds is stopped.
        Whether `env`'s own execution timed out."""
        mine = context_of(env)["Execution"]["Id"] if env is not None else None
        late = [arn for arn, deadline in self._deadlines.items() if self.now >= deadline]
        for arn in late:
            root = self._moto_execution(arn).exec_worker
            if root is not None and root.env is not None and root.env.is_running():
                root.env.set_timed_out()
                self._stop_children(arn)
        for child in self.children:
            if child["task_deadline"] is not None and self.now >= child["task_deadline"] \
                    and not child.get("task_timed_out") and self._moto_execution(child["arn"]).status == "RUNNING":
                child["task_timed_out"] = True
                self._stop(child)
        return mine in late

    def advance(self, seconds: float, env) -> None:
        """A Wait state or a Retry interval: the simulated clock moves on, only up to the first
        deadline that ends the waiting execution (its own, or for a `.sync` child its parent
        Task's and its parent's, up the chain), where that deadline ends what it ends."""
        with self._lock:
            target = self.now + timedelta(seconds=seconds)
            mine = context_of(env)["Execution"]["Id"] if env is not None else None
            due = [d for d in self._chain_deadlines(mine) if self.now < d < target]
            self.now = min([target, *due])
            self._check_deadlines(env)

    def _chain_deadlines(self, arn: str | None) -> list:
        """The deadlines that end execution `arn`: its own and, while it is a `.sync` child, its
        parent Task's TimeoutSeconds and the parent's own, up to the top-level execution."""
        found = []
        while arn is not None:
            if arn in self._deadlines:
                found.append(self._deadlines[arn])
            child = next((c for c in self.children if c["arn"] == arn and c["sync"]), None)
            if child is None:
                break
            found.append(child["task_deadline"])
            arn = child["parent_arn"]
        return found

    # ------------------------------------------------------------ nested executions
    def start_child(self, task, env, start) -> None:
        """A Task's StartExecution (in the parent's interpreter thread): `start()` starts the child;
        the lock keeps the child from running until it is known (and its deadlines set)."""
        with self._lock:
            start()
            arn = (env.stack[-1] or {}).get("executionArn")
            if not arn:
                return
            context = context_of(env)
            sync = task.resource.condition in (ResourceCondition.Sync, ResourceCondition.Sync2)
            task_deadline = None
            if sync:  # the Task's TimeoutSeconds (default 99999999), a TimeoutSecondsPath read from its input
                env.stack.append(env.states.get_input())
                task.timeout.eval(env=env)
                task_deadline = self.now + timedelta(seconds=env.stack.pop())
                env.stack.pop()
            machine_arn = self._moto_execution(arn).state_machine_arn
            machine = self.stack.machine_by_arn(machine_arn)
            self.children.append({"arn": arn, "parent": context["Execution"]["Name"], "machine": machine,
                                  "parent_arn": context["Execution"]["Id"], "machine_arn": machine_arn,
                                  "state": context["State"]["Name"], "sync": sync, "task_deadline": task_deadline,
                                  "task": env.event_history_context.source_event_id})
            self._started_at(arn, machine)
            _started_here.child = self.children[-1]

    def await_child(self, env, resolver):
        """`.sync`/`.sync:2`: wait (in real time, briefly) until the child ends, then let the
        integration describe it. Step Functions learns of the end from the child itself, not
        by polling: no simulated time passes but the child's own. Past the Task's
        TimeoutSeconds on the simulated clock: States.Timeout; the parent ending or the Task
        timing out stops the child ("if a states:startExecution.sync task is aborted, it will
        call the Step Functions StopExecution API action", Step Functions Developer Guide,
        Run a Job (.sync))."""
        child = getattr(_started_here, "child", None)
        while child is not None:
            if child.get("task_timed_out") or self.now >= child["task_deadline"]:
                child["task_timed_out"] = True
                self._stop(child, wait=True)
                raise EvalTimeoutError()
            if self._moto_execution(child["arn"]).status != "RUNNING":
                break
            if not env.is_running():
                self._stop(child, wait=True)
                return None
            time.sleep(_POLL)
        return resolver()

    def _stop(self, child: dict, wait: bool = False) -> None:
        """StopExecution of a running child (and of its own `.sync` children)."""
        live = self._moto_execution(child["arn"])
        if live.status == "RUNNING":
            live.stop(stop_date=self.now, error=None, cause=None)
            self._stop_children(child["arn"])
        deadline = time.monotonic() + 10
        while wait and live.status == "RUNNING" and time.monotonic() < deadline:
            time.sleep(_POLL)

    def _stop_children(self, parent_arn: str) -> None:
        for child in self.children:
            if child["parent_arn"] == parent_arn and child["sync"]:
                self._stop(child)

    def nested_reports(self, first: int = 0) -> list[dict]:
        """`nested_executions`: each child started since the `first`, as its own execution (AWS
        bills each execution's transitions separately)."""
        reports = []
        for child in self.children[first:]:
            described, events = self._describe(child["arn"])
            machine = child["machine"]
            definition = json.loads(self._moto_execution(child["arn"]).state_machine.definition)
            name = described["name"]
            report = execution_report(
                workflow=machine.workflow if machine else child["machine_arn"].rsplit(":", 1)[-1], name=name,
                described=described, events=events, invocations=self.invocations_by_execution[child["arn"]],
                aws_calls=[c for c in self.calls if c.get("execution") == name], world={},
                simulated_seconds=0, metrics=[], definition=definition)
            reports.append({
                "state_machine": report["workflow"], "execution_name": name, "status": report["status"],
                "error": report["error"], "cause": report["cause"], "states": report["states"],
                "transitions": report["transitions"], "lambda_invocations": report["lambda_invocations"],
                # extensions
                "state_machine_arn": child["machine_arn"], "execution_arn": child["arn"],
                "parent": child["parent"], "parent_state": child["state"], "parent_task": child["task"],
                "output": report["output"], "aws_calls": len(report["aws_calls"]),
                "simulated_seconds": max([e["at"] for e in report["timeline"]] or [0]),
                "started_at": report["started_at"], "timeline": report["timeline"]})
        return reports
