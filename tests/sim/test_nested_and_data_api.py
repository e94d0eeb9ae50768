"""Nested executions (`states:startExecution.sync:2`, `.sync`, plain) and the RDS Data API
(EnableHttpEndpoint / DisableHttpEndpoint, rds-data ExecuteStatement) as AWS runs them:
docs/simulator.md, "Nested executions" and "The RDS Data API"."""

import contextlib
import copy
import json
import shutil
import time
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from aurora_ops_sim import Simulation, WorldError, load_world, patches, simulate
from aurora_ops_sim.template import load_template
from conftest import BASE_WORLD

ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------ nested executions
# A test-only stack: a probe function (one DescribeDBClusters, then fails if told to), a
# child state machine (Probe, a Wait, Check) and a parent that starts it from a Task. The
# parent's ASL is restore_drill.asl.json so that `run("restore-drill")` finds it.
TEMPLATE = """
Resources:
  ProbeFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: nested_probe.handler
  ChildStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachines/child.asl.json
      DefinitionSubstitutions:
        ProbeArn: !GetAtt ProbeFunction.Arn
  ParentStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachines/restore_drill.asl.json
      DefinitionSubstitutions:
        ChildArn: !Ref ChildStateMachine
        ProbeArn: !GetAtt ProbeFunction.Arn
"""
PROBE = '''
import boto3


def handler(event, context):
    boto3.client("rds").describe_db_clusters(DBClusterIdentifier="orders")
    if event.get("fail"):
        raise RuntimeError(f"probe failed: {event['fail']}")
    return {"seen": event}
'''
CHILD = {"StartAt": "Probe", "TimeoutSeconds": 3600, "States": {
    "Probe": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 5,
              "Parameters": {"FunctionName": "${ProbeArn}", "Payload.$": "$"}, "ResultPath": None, "Next": "Pause"},
    "Pause": {"Type": "Wait", "SecondsPath": "$.pause", "Next": "Check"},
    "Check": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 60,
              "Parameters": {"FunctionName": "${ProbeArn}", "Payload": {"check": True}}, "OutputPath": "$.Payload",
              "End": True}}}


def _parent(resource: str) -> dict:
    return {"StartAt": "Probe", "States": {
        "Probe": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 120,
                  "Parameters": {"FunctionName": "${ProbeArn}", "Payload": {"from": "parent"}}, "ResultPath": None,
                  "Next": "Child"},
        "Child": {"Type": "Task", "Resource": f"arn:aws:states:::states:{resource}",
                  "TimeoutSecondsPath": "$.task_timeout",
                  "Parameters": {"StateMachineArn": "${ChildArn}", "Input.$": "$",
                                 "Name.$": "States.Format('{}-child', $$.Execution.Name)"},
                  "End": True}}}


@pytest.fixture
def nested_root(tmp_path, monkeypatch):
    """A root with the test-only stack; call it with the parent Task's resource."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "nested_probe.py").write_text(PROBE)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "statemachines").mkdir()
    (tmp_path / "statemachines/child.asl.json").write_text(json.dumps(CHILD))

    def make(resource: str = "startExecution.sync:2") -> Path:
        (tmp_path / "statemachines/restore_drill.asl.json").write_text(json.dumps(_parent(resource)))
        return tmp_path
    return make


def _run(root, execution_input, **world_changes):
    world = copy.deepcopy(BASE_WORLD)
    world["timing"].update(lambda_ms=0, api_ms=0)  # the clock moves by Waits only: exact sums
    for key, value in world_changes.items():
        world.setdefault(key, {}).update(value)
    return simulate("restore-drill", world, execution_input, root=root, echo_handler_output=False)


NORMAL = {"pause": 600, "task_timeout": 3600}


def test_a_sync2_childs_output_reaches_the_parent_parsed_and_is_reported_on_its_own(nested_root):
    started = time.monotonic()
    report = _run(nested_root(), NORMAL)
    assert time.monotonic() - started < 30  # the child's 600 s Wait is simulated, the parent's wait brief
    assert report["status"] == "SUCCEEDED"
    output = report["output"]
    assert output["Output"] == {"seen": {"check": True}}  # .sync:2: JSON, not a string
    assert output["Input"] == NORMAL and output["Status"] == "SUCCEEDED"
    assert output["ExecutionArn"].endswith(":execution:ChildStateMachine:sim-restore-drill-001-child")
    assert output["StopDate"] - output["StartDate"] == 600_000  # epoch ms on the simulated clock
    # the top level is the parent's own execution; the child is billed (and reported) on its own
    assert report["states"] == ["Probe", "Child"] and report["transitions"] == 2
    assert report["lambda_invocations"] == 1
    [child] = report["nested_executions"]
    assert {k: child[k] for k in ("state_machine", "execution_name", "status", "error", "cause", "states",
                                  "transitions", "lambda_invocations", "parent", "parent_state", "output")} == {
        "state_machine": "child", "execution_name": "sim-restore-drill-001-child", "status": "SUCCEEDED",
        "error": None, "cause": None, "states": ["Probe", "Pause", "Check"], "transitions": 3,
        "lambda_invocations": 2, "parent": "sim-restore-drill-001", "parent_state": "Child",
        "output": {"seen": {"check": True}}}
    # the child's calls are the run's, in order, each named by its execution and the child's own state
    assert [(c["operation"], c["execution"], c["state"]) for c in report["aws_calls"]] == [
        ("DescribeDBClusters", "sim-restore-drill-001", "Probe"),
        ("DescribeDBClusters", "sim-restore-drill-001-child", "Probe"),
        ("DescribeDBClusters", "sim-restore-drill-001-child", "Check")]
    assert report["simulated_seconds"] == 600 and child["simulated_seconds"] == 600


def test_sync_gives_the_output_as_a_string(nested_root):
    report = _run(nested_root("startExecution.sync"), NORMAL)
    assert report["status"] == "SUCCEEDED"
    assert json.loads(report["output"]["Output"]) == {"seen": {"check": True}}


def test_a_plain_start_execution_returns_at_once_and_the_run_waits_for_the_child(nested_root):
    report = _run(nested_root("startExecution"), NORMAL)
    assert report["status"] == "SUCCEEDED"
    assert set(report["output"]) == {"ExecutionArn", "StartDate"} and isinstance(report["output"]["StartDate"], int)
    [child] = report["nested_executions"]
    assert child["status"] == "SUCCEEDED" and child["states"] == ["Probe", "Pause", "Check"]
    assert report["timeline"][-1]["at"] == 0  # the parent ended at once; its child ran on
    assert report["simulated_seconds"] == 600


def test_a_failing_child_fails_the_parent_task_with_states_task_failed(nested_root):
    report = _run(nested_root(), {**NORMAL, "fail": "boom"})
    assert report["status"] == "FAILED" and report["error"] == "States.TaskFailed"
    cause = json.loads(report["cause"])  # the child's DescribeExecution
    assert cause["Status"] == "FAILED" and cause["Error"] == "RuntimeError"
    assert cause["Name"] == "sim-restore-drill-001-child"
    [child] = report["nested_executions"]
    assert (child["status"], child["error"], child["states"]) == ("FAILED", "RuntimeError", ["Probe"])
    assert "probe failed: boom" in child["cause"]


def test_a_childs_task_timeouts_come_from_its_own_definition(nested_root):
    """Both have a Task named Probe: the parent's may take 120 s, the child's 5 s."""
    report = _run(nested_root(), {**NORMAL, "pause": 60}, timing={"lambda_ms": 10_000})
    [child] = report["nested_executions"]
    assert report["states"] == ["Probe", "Child"]  # the parent's 10 s Probe passed
    assert (child["status"], child["error"], child["states"]) == ("FAILED", "States.Timeout", ["Probe"])
    assert report["error"] == "States.TaskFailed"


def test_the_parent_tasks_timeout_runs_on_the_simulated_clock_and_stops_the_child(nested_root):
    report = _run(nested_root(), {**NORMAL, "task_timeout": 300})
    assert (report["status"], report["error"]) == ("FAILED", "States.Timeout")
    [child] = report["nested_executions"]
    assert child["status"] == "ABORTED" and child["states"] == ["Probe", "Pause"]  # stopped in its Wait
    assert report["simulated_seconds"] == 300  # the Wait was cut where the Task timed out
    assert [c["state"] for c in report["aws_calls"]] == ["Probe", "Probe"]  # Check never ran


def test_a_child_past_its_own_timeout_times_out(nested_root):
    report = _run(nested_root(), {"pause": 7200, "task_timeout": 99999})
    [child] = report["nested_executions"]
    assert child["status"] == "TIMED_OUT"
    assert report["error"] == "States.TaskFailed" and json.loads(report["cause"])["Status"] == "TIMED_OUT"
    assert report["simulated_seconds"] == 3600  # the child's TimeoutSeconds, not its 7200 s Wait


def test_lambda_faults_by_state_name_reach_the_childs_states(nested_root):
    report = _run(nested_root(), NORMAL, faults={"lambda": [{"state": "Check", "fault": "service-error"}]})
    [child] = report["nested_executions"]
    assert (child["status"], child["error"]) == ("FAILED", "Lambda.ServiceException")
    assert report["error"] == "States.TaskFailed"


def test_duplicate_start_duplicates_only_the_top_level_execution(nested_root):
    report = _run(nested_root(), NORMAL, faults={"duplicate_start": True})
    assert report["duplicate"]["status"] == "SUCCEEDED"
    assert [(c["parent"], c["execution_name"]) for c in report["nested_executions"]] == [
        ("sim-restore-drill-001", "sim-restore-drill-001-child"),
        ("sim-restore-drill-002", "sim-restore-drill-002-child")]
    assert report["lambda_invocations"] == 1 and report["duplicate"]["lambda_invocations"] == 1


def test_the_human_account_shows_the_nested_execution(nested_root):
    from aurora_ops_sim.render import render

    report = _run(nested_root(), {**NORMAL, "fail": "boom"})
    text = render(report, load_world(copy.deepcopy(BASE_WORLD)))
    assert "nested child execution sim-restore-drill-001-child: FAILED: RuntimeError" in text
    assert "Nested executions" in text and "started by sim-restore-drill-001 > Child" in text
    timeline = text.split("Timeline")[1].split("Outcome")[0]
    assert timeline.count("rds:DescribeDBClusters") == 1  # the child's call is its own, not the parent's


def test_a_state_machine_ref_deploys_that_state_machine(world, tmp_path):
    with Simulation(world, echo_handler_output=False) as simulation:
        arn = simulation.stack.resolve({"Ref": "SnapshotRestoreStateMachine"})
        assert arn == simulation.stack.state_machine("statemachines/snapshot_restore.asl.json").arn
        described = boto3.client("stepfunctions", region_name="us-east-1").describe_state_machine(stateMachineArn=arn)
        assert described["name"] == "SnapshotRestoreStateMachine"
        assert simulation.stack.machine_by_arn(arn).workflow == "snapshot-restore"
    (tmp_path / "statemachines").mkdir()
    (tmp_path / "statemachines/a.asl.json").write_text('{"StartAt": "P", "States": {"P": {"Type": "Pass", '
                                                       '"Result": "${B}", "End": true}}}')
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  A:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n"
        "      DefinitionUri: statemachines/a.asl.json\n      DefinitionSubstitutions: {B: !Ref A}\n")
    with Simulation(world, root=tmp_path, echo_handler_output=False) as simulation:
        with pytest.raises(KeyError, match="refer back to itself"):
            simulation.stack.state_machine("statemachines/a.asl.json")


@pytest.fixture
def restore_root(tmp_path):
    """The real stack, with a parent that starts the real snapshot-restore and keeps its output."""
    doc = load_template(ROOT / "template.yaml")
    doc["Resources"]["RestoreDrillStateMachine"]["Properties"]["DefinitionSubstitutions"] = {
        "SnapshotRestoreStateMachineArn": {"Ref": "SnapshotRestoreStateMachine"}}
    (tmp_path / "template.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / "statemachines").mkdir()
    shutil.copy(ROOT / "statemachines/snapshot_restore.asl.json", tmp_path / "statemachines")
    (tmp_path / "statemachines/restore_drill.asl.json").write_text(json.dumps({"StartAt": "Restore", "States": {
        "Restore": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                    "Parameters": {"StateMachineArn": "${SnapshotRestoreStateMachineArn}", "Input.$": "$",
                                   "Name.$": "States.Format('{}-restore', $$.Execution.Name)"},
                    "OutputPath": "$.Output", "End": True}}}))
    return tmp_path


@contextlib.contextmanager
def as_a_handler():
    """boto3 calls made here go through the simulator as a handler's do."""
    patches.in_handler.on = True
    try:
        yield
    finally:
        patches.in_handler.on = False


def test_the_real_snapshot_restore_nested_then_queried_through_the_data_api(restore_root):
    """The numbers of docs/simulator.md's standalone run of examples/restore.yaml (30
    transitions, 13 Lambda invocations) are the child's; the restored cluster answers the Data
    API with its snapshot's data, through the secret ManagePassword gave it."""
    world = yaml.safe_load((ROOT / "examples/restore.yaml").read_text())
    world["snapshots"][1]["data"] = {"SELECT count(*) FROM orders": [[1042]]}  # orders-manual-1123
    execution_input = json.loads((ROOT / "events/snapshot-restore.json").read_text())
    with Simulation(world, root=restore_root, echo_handler_output=False) as simulation:
        report = simulation.run("restore-drill", execution_input)
        assert report["status"] == "SUCCEEDED" and report["output"]["cluster_id"] == "orders-restored"
        assert (report["transitions"], report["lambda_invocations"]) == (1, 0)
        [child] = report["nested_executions"]
        assert (child["state_machine"], child["transitions"], child["lambda_invocations"]) == \
            ("snapshot-restore", 30, 13)
        assert {c["execution"] for c in report["aws_calls"]} == {"sim-restore-drill-001-restore"}
        assert round(report["simulated_seconds"]) == 336
        with as_a_handler():
            rds = boto3.client("rds", region_name="us-east-1")
            cluster = rds.describe_db_clusters(DBClusterIdentifier="orders-restored")["DBClusters"][0]
            assert cluster["HttpEndpointEnabled"] is False  # a restore never has it on
            rds.enable_http_endpoint(ResourceArn=cluster["DBClusterArn"])
            answered = boto3.client("rds-data", region_name="us-east-1").execute_statement(
                resourceArn=cluster["DBClusterArn"], secretArn=cluster["MasterUserSecret"]["SecretArn"],
                sql="SELECT count(*) FROM orders")
        assert answered["records"] == [[{"longValue": 1042}]]
        dumped = {c["id"]: c for c in simulation.dump_world()["clusters"]}
        assert dumped["orders-restored"]["data"] == {"SELECT count(*) FROM orders": [[1042]]}
        assert "data" not in dumped["orders"]


# ------------------------------------------------------------------ the RDS Data API
DATA = {"SELECT count(*) FROM orders": [[1042]],
        "SELECT id, name, total, paid, note FROM orders LIMIT 2": [[1, "ada", 12.5, True, None],
                                                                   [2, "bob", 3.0, False, "late"]]}
DATA_WORLD = {
    "region": "us-east-1", "now": "2026-11-24T12:00:00Z",
    "clusters": [
        {"id": "orders", "engine": "aurora-postgresql", "engine_version": "16.4", "data": DATA,
         "instances": [{"id": "orders-1", "class": "db.r6g.large", "writer": True},
                       {"id": "orders-2", "class": "db.r6g.large"}]},
        {"id": "shop", "engine": "aurora-mysql", "engine_version": "8.0.mysql_aurora.3.08.0",
         "data": {"SELECT count(*) FROM carts": [[7]]},
         "instances": [{"id": "shop-1", "class": "db.r6g.large", "writer": True}]},
        {"id": "legacy", "engine": "aurora-postgresql", "engine_version": "13.9",
         "instances": [{"id": "legacy-1", "class": "db.r6g.large", "writer": True}]},
        {"id": "old-mysql", "engine": "aurora-mysql", "engine_version": "8.0.mysql_aurora.3.05.2",
         "instances": [{"id": "old-mysql-1", "class": "db.r6g.large", "writer": True}]},
        {"id": "zurich", "region": "eu-central-2", "engine": "aurora-postgresql", "engine_version": "16.4",
         "instances": [{"id": "zurich-1", "class": "db.r6g.large", "writer": True}]},
        {"id": "bare", "engine": "aurora-postgresql", "engine_version": "16.4", "data": DATA},
        {"id": "sick", "engine": "aurora-postgresql", "engine_version": "16.4", "data": DATA,
         "instances": [{"id": "sick-1", "class": "db.r6g.large", "writer": True, "status": "rebooting"}]},
    ],
    "snapshots": [{"id": "orders-snap", "cluster": "orders", "data": {"SELECT 1": [[1]]}},
                  {"id": "orders-plain", "cluster": "orders"}],
}


def _arn(cluster_id, region="us-east-1"):
    return f"arn:aws:rds:{region}:123456789012:cluster:{cluster_id}"


@contextlib.contextmanager
def data_api(changes=None):
    """(simulation, rds client, rds-data client) inside a simulation, as a handler calls them."""
    world = copy.deepcopy(DATA_WORLD)
    for key, value in (changes or {}).items():
        world[key] = value
    with Simulation(world, echo_handler_output=False) as simulation, as_a_handler():
        yield simulation, boto3.client("rds", region_name="us-east-1"), boto3.client("rds-data", region_name="us-east-1")


def _ready(rds, cluster_id="orders") -> str:
    """Data API on, and the RDS-managed master secret snapshot-restore's ManagePassword gives; its ARN."""
    rds.enable_http_endpoint(ResourceArn=_arn(cluster_id))
    return rds.modify_db_cluster(DBClusterIdentifier=cluster_id, ManageMasterUserPassword=True,
                                 ApplyImmediately=True)["DBCluster"]["MasterUserSecret"]["SecretArn"]


def _code(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_enable_and_disable_http_endpoint_answer_as_rds_and_describe_shows_it():
    with data_api() as (_, rds, _data):
        def enabled():
            return rds.describe_db_clusters(DBClusterIdentifier="orders")["DBClusters"][0]["HttpEndpointEnabled"]

        assert enabled() is False
        answer = rds.enable_http_endpoint(ResourceArn=_arn("orders"))
        assert {k: answer[k] for k in ("ResourceArn", "HttpEndpointEnabled")} == \
            {"ResourceArn": _arn("orders"), "HttpEndpointEnabled": True}
        assert enabled() is True
        assert rds.disable_http_endpoint(ResourceArn=_arn("orders"))["HttpEndpointEnabled"] is False
        assert enabled() is False
        assert rds.enable_http_endpoint(ResourceArn=_arn("shop"))["HttpEndpointEnabled"] is True  # MySQL 3.08


@pytest.mark.parametrize("cluster,region,code", [
    ("nope", "us-east-1", "ResourceNotFoundFault"),
    ("ORDERS", "us-east-1", "ResourceNotFoundFault"),  # the ARN must match exactly
    ("legacy", "us-east-1", "InvalidParameterCombination"),  # PostgreSQL 13 needs 13.11
    ("old-mysql", "us-east-1", "InvalidParameterCombination"),  # Aurora MySQL needs 3.07
    ("zurich", "eu-central-2", "InvalidParameterCombination"),  # no Data API in Europe (Zurich)
])
def test_enable_http_endpoint_refusals(cluster, region, code):
    with data_api() as (_, _rds, _data):
        rds = boto3.client("rds", region_name=region)
        assert _code(lambda: rds.enable_http_endpoint(ResourceArn=_arn(cluster, region)))[0] == code


def test_enable_http_endpoint_needs_an_available_cluster():
    with data_api() as (simulation, rds, _data):
        from aurora_ops_sim.world.backends import rds_backend

        rds_backend("123456789012", "us-east-1").clusters["orders"].status = "modifying"
        assert _code(lambda: rds.enable_http_endpoint(ResourceArn=_arn("orders")))[0] == "InvalidResourceStateFault"


def test_rows_come_back_as_data_api_fields():
    with data_api() as (_, rds, data):
        secret = _ready(rds)
        plain = data.execute_statement(resourceArn=_arn("orders"), secretArn=secret,
                                       sql="SELECT id, name, total, paid, note FROM orders LIMIT 2")
        assert plain["records"] == [
            [{"longValue": 1}, {"stringValue": "ada"}, {"doubleValue": 12.5}, {"booleanValue": True}, {"isNull": True}],
            [{"longValue": 2}, {"stringValue": "bob"}, {"doubleValue": 3.0}, {"booleanValue": False},
             {"stringValue": "late"}]]
        assert plain["numberOfRecordsUpdated"] == 0 and "columnMetadata" not in plain
        described = data.execute_statement(resourceArn=_arn("orders"), secretArn=secret, includeResultMetadata=True,
                                           sql="  SELECT count(*)\n FROM orders ;")  # whitespace and `;` aside
        assert described["records"] == [[{"longValue": 1042}]]
        assert [(c["name"], c["typeName"]) for c in described["columnMetadata"]] == [("count", "int8")]
        as_json = data.execute_statement(resourceArn=_arn("orders"), secretArn=secret, formatRecordsAs="JSON",
                                         sql="SELECT count(*) FROM orders")
        assert json.loads(as_json["formattedRecords"]) == [{"count": 1042}] and "records" not in as_json


def test_a_statement_the_world_does_not_list_is_the_databases_error():
    with data_api() as (_, rds, data):
        secret = _ready(rds)
        code, message = _code(lambda: data.execute_statement(resourceArn=_arn("orders"), secretArn=secret,
                                                             sql="SELECT * FROM customers"))
        assert code == "DatabaseErrorException"
        assert message.startswith('ERROR: relation "customers" does not exist') and "SQLState: 42P01" in message
        shop_secret = _ready(rds, "shop")
        code, message = _code(lambda: data.execute_statement(resourceArn=_arn("shop"), secretArn=shop_secret,
                                                             sql="SELECT * FROM app.orders"))
        assert (code, message) == ("DatabaseErrorException", "Table 'app.orders' doesn't exist; SQLState: 42S02")


def test_execute_statement_refusals():
    with data_api() as (_, rds, data):
        def execute(cluster="orders", secret=None, **extra):
            return lambda: data.execute_statement(resourceArn=_arn(cluster), secretArn=secret or own,
                                                  sql=extra.pop("sql", "SELECT count(*) FROM orders"), **extra)

        own = rds.modify_db_cluster(DBClusterIdentifier="orders", ManageMasterUserPassword=True,
                                    ApplyImmediately=True)["DBCluster"]["MasterUserSecret"]["SecretArn"]
        code, message = _code(execute())  # not enabled yet
        assert code == "HttpEndpointNotEnabledException" and "HttpEndpoint is not enabled for cluster orders" in message
        assert _code(execute("nope"))[0] == "HttpEndpointNotEnabledException"
        rds.enable_http_endpoint(ResourceArn=_arn("orders"))
        assert _code(execute(secret=own.replace("rds!cluster", "rds!gone")))[0] == "SecretsErrorException"
        other = _ready(rds, "shop")  # another cluster's master secret does not log in here
        code, message = _code(execute(secret=other))
        assert code == "DatabaseErrorException" and "password authentication failed" in message
        mine = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="app-user", SecretString='{"username": "app"}')["ARN"]
        assert data.execute_statement(resourceArn=_arn("orders"), secretArn=mine,
                                      sql="SELECT count(*) FROM orders")["records"]  # a secret of its own: fine
        assert _code(execute(schema="public"))[0] == "BadRequestException"
        assert _code(execute(sql="SELECT 1; SELECT 2"))[0] == "BadRequestException"


@pytest.mark.parametrize("cluster,code", [
    ("bare", "DatabaseNotFoundException"),  # no instance at all
    ("sick", "DatabaseUnavailableException"),  # its writer is not available
])
def test_the_data_api_needs_an_available_writer(cluster, code):
    with data_api() as (_, rds, data):
        secret = _ready(rds, cluster)
        assert _code(lambda: data.execute_statement(resourceArn=_arn(cluster), secretArn=secret,
                                                    sql="SELECT count(*) FROM orders"))[0] == code


def test_the_data_api_needs_an_available_cluster():
    with data_api() as (_, rds, data):
        from aurora_ops_sim.world.backends import rds_backend

        secret = _ready(rds)
        rds_backend("123456789012", "us-east-1").clusters["orders"].status = "stopped"
        assert _code(lambda: data.execute_statement(resourceArn=_arn("orders"), secretArn=secret,
                                                    sql="SELECT count(*) FROM orders"))[0] == \
            "InvalidResourceStateException"


def test_a_global_secondary_has_no_writer_to_answer():
    from test_dr_world import DR_WORLD

    world = copy.deepcopy(DR_WORLD)
    with Simulation(world, echo_handler_output=False) as simulation, as_a_handler():
        rds = boto3.client("rds", region_name="us-west-2")
        rds.enable_http_endpoint(ResourceArn=_arn("orders-west", "us-west-2"))  # allowed on a secondary
        secret = rds.modify_db_cluster(DBClusterIdentifier="orders-west", ManageMasterUserPassword=True,
                                       ApplyImmediately=True)["DBCluster"]["MasterUserSecret"]["SecretArn"]
        data = boto3.client("rds-data", region_name="us-west-2")
        assert _code(lambda: data.execute_statement(resourceArn=_arn("orders-west", "us-west-2"), secretArn=secret,
                                                    sql="SELECT 1"))[0] == "DatabaseUnavailableException"


def test_restored_clusters_answer_with_their_snapshots_data_or_their_sources():
    with data_api() as (simulation, rds, data):
        rds.restore_db_cluster_from_snapshot(DBClusterIdentifier="from-snap", SnapshotIdentifier="orders-snap",
                                             Engine="aurora-postgresql")
        rds.restore_db_cluster_from_snapshot(DBClusterIdentifier="from-plain", SnapshotIdentifier="orders-plain",
                                             Engine="aurora-postgresql")
        rds.restore_db_cluster_to_point_in_time(DBClusterIdentifier="from-time", SourceDBClusterIdentifier="orders",
                                                UseLatestRestorableTime=True)
        assert simulation.data_api.data_of_cluster("us-east-1", "from-snap") == {"SELECT 1": [[1]]}
        assert simulation.data_api.data_of_cluster("us-east-1", "from-plain") == DATA
        assert simulation.data_api.data_of_cluster("us-east-1", "from-time") == DATA
        rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=_arn("orders-snap").replace(
            ":cluster:", ":cluster-snapshot:"), TargetDBClusterSnapshotIdentifier="orders-snap-copy")
        assert simulation.data_api.data_of_snapshot("us-east-1", "orders-snap-copy") == {"SELECT 1": [[1]]}
        dumped = simulation.dump_world()
        assert {c["id"]: c.get("data") for c in dumped["clusters"]}["from-snap"] == {"SELECT 1": [[1]]}
        assert {s["id"]: s.get("data") for s in dumped["snapshots"]}["orders-snap-copy"] == {"SELECT 1": [[1]]}
        assert "data" not in {s["id"]: s for s in dumped["snapshots"]}["orders-plain"]


def test_a_statement_timeout_fault_charges_the_data_apis_45_seconds():
    faults = {"data_api": [{"sql": "SELECT count(*)   FROM orders", "fault": "timeout", "cluster": "orders",
                            "times": 2}]}
    with data_api({"faults": faults}) as (simulation, rds, data):
        secret = _ready(rds)
        before = simulation.now
        with pytest.raises(ClientError) as raised:
            data.execute_statement(resourceArn=_arn("orders"), secretArn=secret, sql="SELECT count(*) FROM orders")
        error = raised.value.response
        assert error["Error"]["Code"] == "StatementTimeoutException" and error["dbConnectionId"] == 1
        assert (simulation.now - before).total_seconds() == 45 + 0.06  # the limit, and the call's api_ms
        assert simulation.calls[-1]["error"] == "StatementTimeoutException"
        other = data.execute_statement(resourceArn=_arn("orders"), secretArn=secret,
                                       sql="SELECT id, name, total, paid, note FROM orders LIMIT 2")
        assert len(other["records"]) == 2  # another statement is not slow
        assert _code(lambda: data.execute_statement(resourceArn=_arn("orders"), secretArn=secret,
                                                    sql="SELECT count(*) FROM orders"))[0] == \
            "StatementTimeoutException"
        assert data.execute_statement(resourceArn=_arn("orders"), secretArn=secret,
                                      sql="SELECT count(*) FROM orders")["records"]  # times: 2 used up


def test_a_timeout_fault_without_times_fires_every_time_and_star_matches_every_statement():
    with data_api({"faults": {"data_api": [{"sql": "*", "fault": "timeout"}]}}) as (_, rds, data):
        secret = _ready(rds)
        for _ in range(3):
            assert _code(lambda: data.execute_statement(resourceArn=_arn("orders"), secretArn=secret,
                                                        sql="SELECT count(*) FROM orders"))[0] == \
                "StatementTimeoutException"


@pytest.mark.parametrize("fault,field", [
    ({"sql": "SELECT 1", "fault": "slow"}, "world.faults.data_api[0].fault"),
    ({"fault": "timeout"}, "world.faults.data_api[0]"),
    ({"sql": "SELECT 1", "fault": "timeout", "when": 1}, "world.faults.data_api[0]"),
])
def test_bad_data_api_faults_are_refused_naming_the_field(fault, field):
    world = copy.deepcopy(DATA_WORLD)
    world["faults"] = {"data_api": [fault]}
    with pytest.raises(WorldError, match=field.replace("[", r"\[").replace("]", r"\]")):
        load_world(world)
