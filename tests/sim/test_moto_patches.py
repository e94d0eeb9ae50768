"""Fails loudly when a moto (or botocore) upgrade breaks what the simulator relies on."""

import json
import time

import boto3

from aurora_ops_sim import Simulation, patches
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
    StateTaskServiceLambda,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser


def test_patch_targets_still_exist_with_the_expected_signatures():
    import inspect

    assert list(inspect.signature(patches._original_invoke).parameters) == [
        "self", "function_name", "qualifier", "body", "headers", "response_headers"]
    assert list(inspect.signature(patches._original_wait_interval).parameters) == ["self", "env", "wait_seconds"]
    assert hasattr(patches._original_retry_time, "sleep")
    assert "time.sleep(interval_seconds)" in inspect.getsource(retrier_decl.RetrierDecl._eval_body)
    # Lambda tasks call the integration through the module (patched there), and a
    # TimeoutError from it is the task's States.Timeout.
    assert list(inspect.signature(patches._original_lambda_integration).parameters) == [
        "env", "parameters", "region", "state_credentials"]
    assert "lambda_eval_utils.execute_lambda_function_integration(" in inspect.getsource(
        StateTaskServiceLambda._eval_service_task)
    assert "isinstance(ex, TimeoutError)" in inspect.getsource(StateTask._from_error)
    assert "boto_client_for(" in inspect.getsource(patches._original_lambda_integration.__globals__[
        "_invoke_lambda_function"])
    assert list(inspect.signature(patches._original_parse).parameters) == ["definition"]


def test_patches_are_installed_while_a_simulation_runs(world):
    with Simulation(world):
        assert LambdaSimpleBackend.invoke is patches._invoke
        assert WaitFunction._wait_interval is patches._wait_interval
        assert isinstance(retrier_decl.time, patches._RetryTime)
        assert lambda_eval_utils.execute_lambda_function_integration is patches._lambda_integration
        assert lambda_eval_utils.boto_client_for is patches._boto_client_for
        assert AmazonStateLanguageParser.parse is patches._parse


def test_a_cached_parse_builds_fresh_components_from_the_same_tree():
    definition = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'
    first, tree = patches._parse(definition)
    second, same_tree = patches._parse(definition)
    assert tree is same_tree and first is not second


def _machine(simulation, definition):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.create_state_machine(name="probe", definition=json.dumps(definition), roleArn=simulation._role)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name="probe-1", input="{}")["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the probe execution did not finish"
        time.sleep(0.01)
    return described


def test_waits_and_retry_intervals_advance_the_simulated_clock_without_sleeping(world):
    definition = {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 3600, "Next": "F"},
        "F": {"Type": "Fail", "Error": "Done", "Cause": "probe"}}}
    with Simulation(world) as simulation:
        started, real = simulation.now, time.monotonic()
        described = _machine(simulation, definition)
        assert described["status"] == "FAILED" and described["error"] == "Done"
        assert (simulation.now - started).total_seconds() == 3600
        assert time.monotonic() - real < 10


def test_lambda_errors_reach_catch_under_their_exception_class_name(world):
    """The Python runtime's error shape: errorType is the exception's class name."""
    world["timing"].update(lambda_ms=250, api_ms=0)
    with Simulation(world) as simulation:
        arn = simulation._function_arn("ScaleUpPrepareFunction")
        definition = {"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": arn, "Payload": {"input": {"dry_run": 1}, "execution_name": "x"}},
                  "Retry": [{"ErrorEquals": ["InvalidInput"], "IntervalSeconds": 7, "MaxAttempts": 1}],
                  "Catch": [{"ErrorEquals": ["InvalidInput"], "Next": "Caught"}], "End": True},
            "Caught": {"Type": "Fail", "ErrorPath": "$.Error", "Cause": "caught"}}}
        started = simulation.now
        described = _machine(simulation, definition)
        assert described["error"] == "InvalidInput"
        assert simulation.invocations == 2
        # the retry interval, simulated, and each invocation's lambda_ms
        assert (simulation.now - started).total_seconds() == 7 + 2 * 0.25


def test_moto_jsonpath_quirk_is_still_there_or_gone():
    """moto returns lists for definite paths in some places; the ASL avoids indexed
    paths altogether. If this starts failing, check the ASL files can use them."""
    with open("statemachines/scale_up.asl.json") as f:
        assert "[0]" not in f.read()


def test_without_a_simulation_the_patches_defer_to_moto():
    assert patches.active is None
    backend = LambdaSimpleBackend("us-east-1", "123456789012")
    assert patches._invoke(backend, "f", None, '{"a": 1}', {}, {}) == b'{"a": 1}'


def test_moto_still_accepts_a_serverless_instance_without_serverless_v2_and_keeps_the_range():
    """The RDS model refuses db.serverless in a cluster without a Serverless v2 scaling
    configuration, as AWS does, and reads the range from moto's cluster. If moto starts
    refusing it, the model's refusal can go; if the attribute moves, the model must follow."""
    from moto import mock_aws
    from moto.rds.models import rds_backends

    with mock_aws():
        rds = boto3.client("rds", region_name="us-east-1")
        for cluster_id, extra in (("fixed", {}),
                                  ("flex", {"ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 16}})):
            rds.create_db_cluster(DBClusterIdentifier=cluster_id, Engine="aurora-postgresql", EngineVersion="16.4",
                                  MasterUsername="admin1", MasterUserPassword="password-1", **extra)
        rds.create_db_instance(DBInstanceIdentifier="fixed-1", DBClusterIdentifier="fixed",
                               Engine="aurora-postgresql", DBInstanceClass="db.serverless")
        clusters = rds_backends["123456789012"]["us-east-1"].clusters
        assert clusters["fixed"].serverless_v2_scaling_configuration is None
        assert clusters["flex"].serverless_v2_scaling_configuration.get("MaxCapacity") == 16
        assert clusters["flex"].serverless_v2_scaling_configuration.get("MinCapacity") == 0.5
