"""Fails loudly when a moto (or botocore) upgrade breaks what the simulator relies on."""

import json
import time

import boto3

from aurora_ops_sim import Simulation, patches
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.rds.models import DBCluster, rds_backends
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
        assert DBCluster.designate_writer is patches._designate_writer


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


# Global clusters and cluster failovers: where moto differs from AWS, the RDS model
# (world/failover_model.py, world/global_model.py) answers as AWS does. Each test pins
# the difference: when a moto upgrade changes it, revisit the model.

def _global_database(secondary_region="us-west-2"):
    """Inside mock_aws: global cluster g with primary a (us-east-1) and secondary b, two instances each."""
    east = boto3.client("rds", region_name="us-east-1")
    east.create_global_cluster(GlobalClusterIdentifier="g", Engine="aurora-postgresql", EngineVersion="16.4")
    arns = {}
    for cluster_id, region in (("a", "us-east-1"), ("b", secondary_region)):
        rds = boto3.client("rds", region_name=region)
        arns[cluster_id] = rds.create_db_cluster(
            DBClusterIdentifier=cluster_id, Engine="aurora-postgresql", EngineVersion="16.4", MasterUsername="admin1",
            MasterUserPassword="password-1", GlobalClusterIdentifier="g")["DBCluster"]["DBClusterArn"]
        for n in (1, 2):
            rds.create_db_instance(DBInstanceIdentifier=f"{cluster_id}-{n}", DBClusterIdentifier=cluster_id,
                                   Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")
    return arns


def test_moto_still_makes_a_writer_of_a_global_secondary_when_it_reads_its_members():
    """AWS: a secondary's instances are all readers. patches._designate_writer keeps them so."""
    import inspect

    assert "self.designate_writer()" in inspect.getsource(DBCluster.members.fget)
    assert list(inspect.signature(patches._original_designate_writer).parameters) == ["self"]
    with mock_aws():
        _global_database()
        members = boto3.client("rds", region_name="us-west-2").describe_db_clusters(
            DBClusterIdentifier="b")["DBClusters"][0]["DBClusterMembers"]
        assert [m["IsClusterWriter"] for m in members] == [True, False]


def test_moto_still_fails_a_cluster_over_at_once():
    """AWS: the cluster reads failing-over for a while (failover_model)."""
    with mock_aws():
        _global_database()
        rds = boto3.client("rds", region_name="us-east-1")
        answered = rds.failover_db_cluster(DBClusterIdentifier="a", TargetDBInstanceIdentifier="a-2")["DBCluster"]
        assert {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in answered["DBClusterMembers"]} == \
            {"a-1": False, "a-2": True}
        assert rds.describe_db_clusters(DBClusterIdentifier="a")["DBClusters"][0]["Status"] == "available"


def test_moto_still_implements_no_global_switchover_or_failover():
    with mock_aws():
        arns = _global_database()
        rds = boto3.client("rds", region_name="us-west-2")
        with pytest.raises(NotImplementedError):
            rds.switchover_global_cluster(GlobalClusterIdentifier="g", TargetDbClusterIdentifier=arns["b"])
        with pytest.raises(NotImplementedError):
            rds.failover_global_cluster(GlobalClusterIdentifier="g", TargetDbClusterIdentifier=arns["b"],
                                        AllowDataLoss=True)


def test_moto_still_removes_from_a_global_cluster_only_in_us_east_1():
    with mock_aws():
        arns = _global_database()
        west = boto3.client("rds", region_name="us-west-2")
        assert "GlobalCluster" not in west.remove_from_global_cluster(GlobalClusterIdentifier="g",
                                                                      DbClusterIdentifier=arns["b"])
        assert len(west.describe_global_clusters()["GlobalClusters"][0]["GlobalClusterMembers"]) == 2


def test_moto_still_lists_every_global_cluster_unfiltered_from_us_east_1_without_synchronization():
    """AWS filters by GlobalClusterIdentifier (GlobalClusterNotFoundFault) and reports each
    member's SynchronizationStatus; backends.global_clusters reads us-east-1's backend."""
    with mock_aws():
        _global_database()
        east = boto3.client("rds", region_name="us-east-1")
        east.create_global_cluster(GlobalClusterIdentifier="other", Engine="aurora-postgresql")
        listed = boto3.client("rds", region_name="eu-west-1").describe_global_clusters(
            GlobalClusterIdentifier="nope")["GlobalClusters"]
        assert [g["GlobalClusterIdentifier"] for g in listed] == ["g", "other"]
        assert not any("SynchronizationStatus" in m for m in listed[0]["GlobalClusterMembers"])
        assert set(rds_backends["123456789012"]["us-east-1"].global_clusters) == {"g", "other"}
        assert "GlobalClusterIdentifier" in boto3.client("rds", region_name="us-west-2").describe_db_clusters(
            DBClusterIdentifier="b")["DBClusters"][0]  # from the cluster's global_cluster_identifier


def test_moto_restores_still_join_the_sources_global_cluster():
    """AWS: a restored cluster is standalone (GlobalClusters.standalone)."""
    with mock_aws():
        _global_database()
        east = boto3.client("rds", region_name="us-east-1")
        east.restore_db_cluster_to_point_in_time(DBClusterIdentifier="c", SourceDBClusterIdentifier="a",
                                                 UseLatestRestorableTime=True)
        assert len(east.describe_global_clusters()["GlobalClusters"][0]["GlobalClusterMembers"]) == 3


def test_moto_cluster_status_still_turns_creating_available_when_read():
    """backends.cluster_status reads `_status` so that a check doesn't advance a creating cluster."""
    from aurora_ops_sim.world.backends import cluster_status

    with mock_aws():
        boto3.client("rds", region_name="us-east-1").create_db_cluster(
            DBClusterIdentifier="a", Engine="aurora-postgresql", MasterUsername="admin1", MasterUserPassword="password-1")
        live = rds_backends["123456789012"]["us-east-1"].clusters["a"]
        live.status = "creating"
        assert cluster_status(live) == "creating" and cluster_status(live) == "creating"
        assert live.status == "creating" and cluster_status(live) == "available"


def test_moto_dsql_still_lacks_most_regions_chosen_identifiers_and_a_clusters_own_arn():
    """world/dsql_model.py answers GetCluster from the world because moto's DSQL backend
    exists only in us-east-1 and us-east-2, draws identifiers at random, and echoes
    multiRegionProperties as given (AWS lists the cluster's own ARN in `clusters`)."""
    with mock_aws():
        east = boto3.client("dsql", region_name="us-east-1")
        made = east.create_cluster(multiRegionProperties={"witnessRegion": "us-west-2"})
        assert len(made["identifier"]) == 26
        assert east.get_cluster(identifier=made["identifier"])["multiRegionProperties"] == {"witnessRegion": "us-west-2"}
        with pytest.raises(KeyError):
            boto3.client("dsql", region_name="us-west-2").get_cluster(identifier=made["identifier"])


def test_the_dsql_model_answers_getcluster_in_botocores_shape():
    import botocore.session
    from botocore.exceptions import ClientError

    from aurora_ops_sim.world.dsql_model import STATUSES, DsqlClusters

    shape = botocore.session.get_session().get_service_model("dsql").operation_model("GetCluster").output_shape
    assert set(STATUSES) == set(shape.members["status"].enum)
    model = DsqlClusters({"account_id": "123456789012", "region": "us-east-1", "now": "2026-11-24T12:00:00Z",
                          "dsql_clusters": [{"id": "abc123", "region": "us-east-1", "status": "IDLE",
                                             "witness_region": "us-west-2", "peers": ["def456"]},
                                            {"id": "solo", "region": "eu-west-1", "status": "ACTIVE", "peers": []}]})
    client = boto3.client("dsql", region_name="us-east-1")
    answer = model.before(client, "us-east-1", "GetCluster", {"identifier": "abc123"})
    assert set(answer) <= set(shape.members) and answer["status"] == "IDLE"
    assert answer["multiRegionProperties"] == {"witnessRegion": "us-west-2", "clusters": [
        "arn:aws:dsql:us-east-1:123456789012:cluster/abc123", "arn:aws:dsql:us-east-1:123456789012:cluster/def456"]}
    assert "multiRegionProperties" not in model.before(client, "eu-west-1", "GetCluster", {"identifier": "solo"})
    with pytest.raises(ClientError) as refused:
        model.before(client, "us-east-1", "GetCluster", {"identifier": "solo"})  # not in that region
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert model.before(client, "us-east-1", "ListClusters", {}) is None  # left to moto


# Nested executions (states:startExecution) and the RDS Data API: where moto differs from
# AWS, patches.py (_sfn_*) and world/data_api.py answer as AWS does. Each test pins the
# difference: when a moto upgrade changes it, revisit the patch or the model.

def test_moto_still_passes_a_start_execution_tasks_asl_parameters_unchanged_to_boto3():
    """AWS accepts StateMachineArn/Input/Name (the documented examples); moto hands them to
    boto3, whose members are stateMachineArn/input/name: States.Runtime 'StateMachineArn'.
    patches._sfn_normalise_parameters maps them by botocore's shape (and the answer back)."""
    import inspect

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )

    for method in (StateTaskService._normalise_parameters, StateTaskService._normalise_response):
        assert inspect.getsource(method).rstrip().endswith("pass")  # still a no-op in moto
    assert 'submission_output["ExecutionArn"]' in inspect.getsource(
        patches.StateTaskServiceSfn._build_sync2_resolver)  # moto reads the answer Pascal-cased
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        child = sfn.create_state_machine(name="child", roleArn=role, definition=json.dumps(
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
        parent = sfn.create_state_machine(name="parent", roleArn=role, definition=json.dumps(
            {"StartAt": "T", "States": {"T": {"Type": "Task", "End": True,
                                              "Resource": "arn:aws:states:::states:startExecution.sync:2",
                                              "Parameters": {"StateMachineArn": child, "Input": {"a": 1}}}}}))
        arn = sfn.start_execution(stateMachineArn=parent["stateMachineArn"], name="e1")["executionArn"]
        deadline = time.monotonic() + 30
        while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert described["status"] == "FAILED" and described["error"] == "States.Runtime"
        assert "'StateMachineArn'" in described["cause"]


def test_moto_still_polls_a_sync_task_every_half_real_second_and_times_it_in_real_time():
    """patches._sfn_eval_sync waits for the child on the simulated clock instead."""
    import inspect

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback

    source = inspect.getsource(state_task_service_callback.StateTaskServiceCallback._eval_sync)
    assert "time.sleep(_DELAY_SECONDS_SYNC_CONDITION_CHECK)" in source
    assert state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK == 0.5
    assert list(inspect.signature(patches._original_sfn_eval_sync).parameters) == [
        "self", "env", "sync_resolver", "timeout_seconds", "callback_endpoint", "heartbeat_endpoint"]
    assert list(inspect.signature(patches._original_sfn_service_task).parameters) == [
        "self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"]
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

    # a Task's TimeoutSeconds is waited for in real seconds
    assert "terminated_event.wait(timeout_seconds)" in inspect.getsource(ExecutionState._evaluate_with_timeout)


def test_moto_still_dates_executions_with_the_real_clock():
    """patches._DatetimeModule puts an execution's start and stop dates on the simulated clock."""
    import inspect

    from moto.stepfunctions.parser.backend import execution
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    now = "datetime.datetime.now(tz=datetime.timezone.utc)"
    assert now in inspect.getsource(execution.BaseExecutionWorkerCommunication._reflect_execution_status)
    assert now in inspect.getsource(StepFunctionsParserBackend.start_execution)


def test_nested_and_data_api_patches_are_installed_while_a_simulation_runs(world):
    from moto.stepfunctions.parser import models as sfn_models
    from moto.stepfunctions.parser.backend import execution

    with Simulation(world):
        sfn = patches.StateTaskServiceSfn
        assert sfn._normalise_parameters is patches._sfn_normalise_parameters
        assert sfn._normalise_response is patches._sfn_normalise_response
        assert sfn._eval_service_task is patches._sfn_service_task
        assert sfn._eval_sync is patches._sfn_eval_sync
        assert isinstance(execution.datetime, patches._DatetimeModule)
        assert isinstance(sfn_models.datetime, patches._DatetimeModule)


def test_moto_still_implements_no_http_endpoint_and_only_reports_it_off():
    """AWS: EnableHttpEndpoint/DisableHttpEndpoint (world/data_api.py answers them and sets the
    cluster's `_enable_http_endpoint`, which moto's DescribeDBClusters reports). moto also turns
    CreateDBCluster's EnableHttpEndpoint off for provisioned clusters (AWS turns it on for
    versions with the Data API), and a restored cluster has it off (as in AWS)."""
    with mock_aws():
        rds = boto3.client("rds", region_name="us-east-1")
        arn = rds.create_db_cluster(DBClusterIdentifier="a", Engine="aurora-postgresql", EngineVersion="16.4",
                                    MasterUsername="admin1", MasterUserPassword="password-1",
                                    EnableHttpEndpoint=True)["DBCluster"]["DBClusterArn"]
        assert rds.describe_db_clusters(DBClusterIdentifier="a")["DBClusters"][0]["HttpEndpointEnabled"] is False
        with pytest.raises(NotImplementedError):
            rds.enable_http_endpoint(ResourceArn=arn)
        with pytest.raises(NotImplementedError):
            rds.disable_http_endpoint(ResourceArn=arn)
        rds_backends["123456789012"]["us-east-1"].clusters["a"]._enable_http_endpoint = True
        assert rds.describe_db_clusters(DBClusterIdentifier="a")["DBClusters"][0]["HttpEndpointEnabled"] is True
        rds.create_db_cluster_snapshot(DBClusterIdentifier="a", DBClusterSnapshotIdentifier="s")
        restored = rds.restore_db_cluster_from_snapshot(DBClusterIdentifier="b", SnapshotIdentifier="s",
                                                        Engine="aurora-postgresql")["DBCluster"]
        assert restored["HttpEndpointEnabled"] is False


def test_moto_still_gives_a_managed_master_password_a_secret_that_exists():
    """snapshot-restore's ManagePassword: ModifyDBCluster(ManageMasterUserPassword=True). The Data
    API is called with MasterUserSecret.SecretArn; world/data_api.py looks it up in moto's
    Secrets Manager (through the RDS backend) and reads moto's `master_user_secret`."""
    with mock_aws():
        rds = boto3.client("rds", region_name="us-east-1")
        rds.create_db_cluster(DBClusterIdentifier="a", Engine="aurora-postgresql", EngineVersion="16.4",
                              MasterUsername="admin1", MasterUserPassword="password-1")
        secret = rds.modify_db_cluster(DBClusterIdentifier="a", ManageMasterUserPassword=True,
                                       ApplyImmediately=True)["DBCluster"]["MasterUserSecret"]["SecretArn"]
        assert boto3.client("secretsmanager", region_name="us-east-1").describe_secret(SecretId=secret)["Name"] \
            .startswith("rds!cluster")
        backend = rds_backends["123456789012"]["us-east-1"]
        assert backend.clusters["a"].master_user_secret.secret_arn == secret
        assert backend.secretsmanager.secrets.get(secret).arn == secret


def test_moto_still_answers_every_data_api_statement_with_no_records_and_checks_nothing():
    """AWS refuses without the HTTP endpoint, checks the secret, and answers from the database;
    world/data_api.py answers from the world instead."""
    with mock_aws():
        answer = boto3.client("rds-data", region_name="us-east-1").execute_statement(
            resourceArn="arn:aws:rds:us-east-1:123456789012:cluster:nowhere",
            secretArn="arn:aws:secretsmanager:us-east-1:123456789012:secret:nothing", sql="SELECT 1")
        assert answer["records"] == []


def test_moto_still_parses_each_jsonpath_through_the_names_the_cache_replaces():
    """The simulator caches JSONPath parsing (speed only): moto must still look `parse` up
    in these two modules, or the cache does nothing and every run gets slower."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    from aurora_ops_sim import patches

    patches.install()
    assert hasattr(json_path.parse, "cache_info") and hasattr(result_path.parse, "cache_info")
    assert json_path.extract_json("$.a[1]", {"a": [1, 2]}) == 2
    assert json_path.parse("$.a") is json_path.parse("$.a")


def test_a_new_simulation_refills_the_retry_quota_of_the_clients_it_keeps():
    """botocore's standard retry mode keeps a retry quota per client; the handlers' clients
    outlive a simulation, so each simulation starts them full again (as a fresh container)."""
    import boto3
    from botocore.config import Config
    from botocore.retries import quota

    from aurora_ops_sim import patches

    patches.install()
    before = set(patches._quota_checkers)
    client = boto3.client("rds", region_name="us-east-1", config=Config(retries={"mode": "standard"}))
    (checker,) = set(patches._quota_checkers) - before
    while checker._quota.acquire(50):
        pass
    assert checker._quota.available_capacity < quota.RetryQuota.INITIAL_CAPACITY
    patches.fresh_retry_quotas()
    assert checker._quota.available_capacity == quota.RetryQuota.INITIAL_CAPACITY and client
