"""Every patch the simulator makes to moto and botocore, in one place.

tests/sim/test_moto_patches.py fails loudly when a moto upgrade moves any of these
targets. The patches route to whichever Simulation is active; with none
active they behave exactly like the originals."""

from __future__ import annotations

import datetime
import functools
import threading
import weakref
from types import SimpleNamespace

import botocore.session
from botocore import xform_name
from botocore.client import BaseClient
from botocore.retries import quota as retry_quota
from botocore.retries import standard as standard_retries
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.rds.models import DBCluster
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser import models as sfn_models
from moto.stepfunctions.parser.asl.component.common.path import result_path as sfn_result_path
from moto.stepfunctions.parser.asl.utils import json_path as sfn_json_path
from moto.stepfunctions.parser.backend import execution as sfn_execution

_original_make_api_call = BaseClient._make_api_call
_original_invoke = LambdaSimpleBackend.invoke
_original_wait_interval = WaitFunction._wait_interval
_original_retry_time = retrier_decl.time
_original_lambda_integration = lambda_eval_utils.execute_lambda_function_integration
_original_parse = AmazonStateLanguageParser.parse
_original_boto_client_for = lambda_eval_utils.boto_client_for
_original_event_timestamp = EventManager._get_current_timestamp
_original_designate_writer = DBCluster.designate_writer
_original_sfn_normalise_parameters = StateTaskServiceSfn._normalise_parameters
_original_sfn_normalise_response = StateTaskServiceSfn._normalise_response
_original_sfn_service_task = StateTaskServiceSfn._eval_service_task
_original_sfn_eval_sync = StateTaskServiceSfn._eval_sync  # StateTaskServiceCallback's
_original_execution_datetime = sfn_execution.datetime  # the `datetime` module, also in parser/models.py
_interpreter_clients: dict = {}  # (region, service) -> the interpreter's client
_parse_trees: dict = {}  # definition text -> ANTLR parse tree

active = None  # the running Simulation, set by Simulation.__enter__
in_handler = threading.local()  # calls are recorded only while a handler runs


def _make_api_call(client: BaseClient, operation: str, params: dict):
    if active is None or not getattr(in_handler, "on", False):
        return _original_make_api_call(client, operation, params)
    return active.api_call(client, operation, params, _original_make_api_call)


def _invoke(backend, function_name, qualifier, body, headers, response_headers):
    """Lambda tasks call the real handler in-process, with the Python runtime's error shape."""
    if active is None:
        return _original_invoke(backend, function_name, qualifier, body, headers, response_headers)
    payload, error = active.invoke(function_name, body)
    if error:
        response_headers["x-amz-function-error"] = "Unhandled"
    return payload


def _lambda_integration(env, parameters, region, state_credentials):
    """A Lambda Task's invocation as Step Functions makes it: where Lambda-level
    faults and the task's TimeoutSeconds (on the simulated clock) apply."""
    if active is None:
        return _original_lambda_integration(env, parameters, region, state_credentials)
    return active.lambda_task(env, parameters, region, state_credentials, _original_lambda_integration)


def _parse(definition: str):
    """moto parses a definition with ANTLR at every create and every start (~0.6 s
    each); the parse tree is reused, the evaluation components are built afresh."""
    tree = _parse_trees.get(definition)
    if tree is None:
        _, tree = _original_parse(definition)  # syntax errors raise here, as before
        _parse_trees[definition] = tree
    return Preprocessor().visit(tree), tree


def _boto_client_for(region: str, service: str, state_credentials=None):
    """The interpreter makes a new client for every Lambda task (~40 ms); one per region is enough."""
    if active is None:
        return _original_boto_client_for(region=region, service=service, state_credentials=state_credentials)
    key = (region, service)
    if key not in _interpreter_clients:
        _interpreter_clients[key] = _original_boto_client_for(region=region, service=service,
                                                              state_credentials=state_credentials)
    return _interpreter_clients[key]


def _wait_interval(wait_function, env, wait_seconds):
    """Wait states advance the simulated clock instead of sleeping."""
    if active is None:
        return _original_wait_interval(wait_function, env, wait_seconds)
    active.advance(wait_seconds, env)


def _event_timestamp():
    """History events are stamped with the simulated clock: the report's timeline reads them."""
    if active is None:
        return _original_event_timestamp()
    return active.now


def _designate_writer(cluster) -> None:
    """moto makes an instance the writer whenever it reads a cluster's members and finds
    none; a global secondary (and a detached one still promoting) has none in AWS."""
    if active is not None and active.rds.globals.keeps_no_writer(cluster):
        return None
    return _original_designate_writer(cluster)


@functools.cache
def _sfn_shapes(action: str) -> tuple:
    """(input shape, output shape) of a Step Functions operation named as moto names it
    (`start_execution`), from botocore's service model."""
    model = botocore.session.get_session().get_service_model("stepfunctions")
    operation = model.operation_model({xform_name(o): o for o in model.operation_names}[action])
    return operation.input_shape, operation.output_shape


def _sfn_normalise_parameters(task, parameters, boto_service_name=None, service_action_name=None):
    """A Step Functions Task's ASL parameters (`StateMachineArn`, `Input`, `Name`) as the
    API's members (`stateMachineArn`, ...): AWS accepts them so (the documented
    `states:startExecution` examples). moto's vendored parser passes them on unchanged."""
    _original_sfn_normalise_parameters(task, parameters, boto_service_name, service_action_name)
    if active is not None:
        task._to_boto_request(parameters, _sfn_shapes(task._get_boto_service_action(service_action_name))[0])


def _sfn_normalise_response(task, response, boto_service_name=None, service_action_name=None):
    """The API's answer as the Task's result: `ExecutionArn`, `StartDate`, `Output`, ... (the
    documented `.sync` outputs); timestamps as epoch milliseconds, as in Step Functions' events."""
    if active is None or not isinstance(response, dict):
        return _original_sfn_normalise_response(task, response, boto_service_name, service_action_name)
    task._from_boto_response(response, _sfn_shapes(task._get_boto_service_action(service_action_name))[1])
    for key, value in list(response.items()):
        if isinstance(value, datetime.datetime):
            response[key] = int(value.timestamp() * 1000)
    return None


def _sfn_service_task(task, env, resource_runtime_part, normalised_parameters, state_credentials):
    """StartExecution from a Task: the child execution is the run's too (nested_executions)."""
    def start():
        _original_sfn_service_task(task, env, resource_runtime_part, normalised_parameters, state_credentials)

    if active is None or task._get_boto_service_action() != "start_execution":
        return start()
    return active.start_child(task, env, start)


def _sfn_eval_sync(task, env, sync_resolver, timeout_seconds, callback_endpoint, heartbeat_endpoint):
    """`.sync` / `.sync:2`: the parent waits for the child on the simulated clock (moto polls
    every 0.5 real seconds and measures the Task's TimeoutSeconds in real time)."""
    if active is None:
        return _original_sfn_eval_sync(task, env, sync_resolver, timeout_seconds, callback_endpoint,
                                       heartbeat_endpoint)
    return active.await_child(env, sync_resolver)


class _SimulatedDatetime(datetime.datetime):
    """An execution's start and stop dates on the simulated clock (DescribeExecution, `.sync` outputs)."""

    @classmethod
    def now(cls, tz=None):
        if active is None:
            return datetime.datetime.now(tz)
        return active.now if tz is None else active.now.astimezone(tz)


class _DatetimeModule:
    """Stands in for the `datetime` module in moto's execution code."""

    datetime = _SimulatedDatetime

    def __getattr__(self, name):
        return getattr(datetime, name)


class _RetryTime(SimpleNamespace):
    """Stands in for the `time` module of moto's retrier: Retry intervals are simulated too."""

    @staticmethod
    def sleep(seconds: float) -> None:
        if active is None:
            return _original_retry_time.sleep(seconds)
        active.advance(seconds, None)


_quota_checkers: weakref.WeakSet = weakref.WeakSet()  # of every boto3 client's standard-mode retry quota
_original_quota_checker_init = standard_retries.RetryQuotaChecker.__init__


def _remembered_quota_checker(self, *args, **kwargs) -> None:
    _original_quota_checker_init(self, *args, **kwargs)
    _quota_checkers.add(self)


def fresh_retry_quotas() -> None:
    """Each simulated account starts as a fresh Lambda container would: with full retry
    quotas. The handlers' boto3 clients are kept from one simulation to the next (making
    them is a third of a short run), so their quotas are refilled instead."""
    for checker in list(_quota_checkers):
        checker._quota = retry_quota.RetryQuota()


def _cached(parse):
    """moto builds a new JSONPath parser (its ply tables) for every path it evaluates, a
    sixth of a simulation's time; a path always parses to the same expression, which
    `find` and `update` only read. Speed only: the answers are the same."""
    return parse if hasattr(parse, "cache_info") else functools.lru_cache(maxsize=4096)(parse)


def install() -> None:
    standard_retries.RetryQuotaChecker.__init__ = _remembered_quota_checker
    sfn_json_path.parse = _cached(sfn_json_path.parse)
    sfn_result_path.parse = _cached(sfn_result_path.parse)
    BaseClient._make_api_call = _make_api_call
    LambdaSimpleBackend.invoke = _invoke
    WaitFunction._wait_interval = _wait_interval
    retrier_decl.time = _RetryTime()
    lambda_eval_utils.execute_lambda_function_integration = _lambda_integration
    AmazonStateLanguageParser.parse = staticmethod(_parse)
    lambda_eval_utils.boto_client_for = _boto_client_for
    EventManager._get_current_timestamp = staticmethod(_event_timestamp)
    DBCluster.designate_writer = _designate_writer
    StateTaskServiceSfn._normalise_parameters = _sfn_normalise_parameters
    StateTaskServiceSfn._normalise_response = _sfn_normalise_response
    StateTaskServiceSfn._eval_service_task = _sfn_service_task
    StateTaskServiceSfn._eval_sync = _sfn_eval_sync
    sfn_execution.datetime = sfn_models.datetime = _DatetimeModule()
