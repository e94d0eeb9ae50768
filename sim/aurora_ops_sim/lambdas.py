"""The Lambda side of the simulated account: each Task's invocation as Step
Functions makes it (Lambda-level faults, the task's TimeoutSeconds on the
simulated clock), and the real handler run in process with the runtime's
error shape. A mixin of Simulation: it shares the clock, the faults and the stack."""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import traceback
from dataclasses import dataclass
from datetime import timedelta

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
    LambdaFunctionErrorException,
)

from . import patches
from .report import emf_metrics


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



def _lambda_error(code: str, message: str) -> ClientError:
    """What Lambda's Invoke API answers when it fails: Step Functions names it `Lambda.<code>`
    and gives the message as a plain-text cause."""
    status = 429 if code == "TooManyRequestsException" else 500
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "simulated"}}, "Invoke")



# The history event (TaskStarted) of the Task invocation running in this thread:
# each AWS call the handler makes names it (Map iterations run in threads of their own).
current_task = threading.local()


class LambdaSide:
    def lambda_task(self, env, parameters, region, credentials, original) -> None:
        """One invocation of a Lambda Task: the world's Lambda faults, then the
        task's TimeoutSeconds measured on the simulated clock."""
        context = env.states.context_object.context_object_data
        state = context["State"]["Name"]
        current_task.event = env.event_history_context.source_event_id
        current_task.execution, current_task.execution_arn = context["Execution"]["Name"], context["Execution"]["Id"]
        fault = self.faults.lambda_fault(state)
        if fault in ("service-error", "throttled"):  # Lambda refused: the handler never runs
            code = "ServiceException" if fault == "service-error" else "TooManyRequestsException"
            raise _lambda_error(code, f"simulated fault: {fault} invoking {state}")
        started = self.now
        failed = None
        try:
            original(env, parameters, region, credentials)
        except LambdaFunctionErrorException as exc:  # the handler raised: its error, unless lost below
            failed = exc
        machine = self.stack.machine_by_arn(context["StateMachine"]["Id"])  # a nested child's own definition
        limit = machine.task_timeouts.get(state) if machine else None  # None: not a stack machine
        timed_out = fault == "timeout" or (limit is not None and (self.now - started).total_seconds() > limit)
        if timed_out and limit is not None:  # Step Functions waited the whole TimeoutSeconds
            self.now = max(self.now, started + timedelta(seconds=limit))
        if self._check_deadlines(env):
            return  # the execution itself timed out meanwhile: nothing of this task matters any more
        if fault == "lost-response":
            raise _lambda_error("ServiceException", f"simulated fault: the response of {state} was lost")
        if timed_out:
            raise EvalTimeoutError()  # Step Functions: States.Timeout, empty cause
        if failed:
            raise failed

    def invoke(self, function_arn: str, body) -> tuple[bytes, bool]:
        logical_id = function_arn.rsplit(":", 1)[-1]
        handler, environment = self.stack.functions[logical_id]
        event = json.loads(body) if body else {}
        with self._lock:  # moto backends are not thread-safe: one handler at a time
            self.invocations += 1
            self.invocations_by_execution[getattr(current_task, "execution_arn", None)] += 1
            self._charge(self.world["timing"]["lambda_ms"])
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
