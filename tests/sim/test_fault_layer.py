"""The simulator's fault layer (contract, "Version 2 additions"): each fault of the
world file does what the table says, the clock charges Lambda and API time,
and the RDS model refuses what RDS refuses."""

import copy
import json
import time

import boto3
import pytest

from aurora_ops_sim import Simulation, patches, simulate
from conftest import BASE_WORLD, calls


def _probe(simulation, payload):
    """A one-Task state machine around scale-up's Prepare function; a caught error
    becomes the output, so its name and cause can be read."""
    arn = simulation._function_arn("ScaleUpPrepareFunction")
    definition = {"StartAt": "Probe", "States": {
        "Probe": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 120,
                  "Parameters": {"FunctionName": arn, "Payload": payload},
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": True},
        "Caught": {"Type": "Pass", "End": True}}}
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(name="probe", definition=json.dumps(definition),
                                       roleArn=simulation._role)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="probe-1", input="{}")["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return json.loads(described["output"])


PREPARE = {"input": {"cluster_id": "orders"}, "execution_name": "probe"}


@pytest.mark.parametrize("fault,error,handler_runs", [
    ("lost-response", "Lambda.ServiceException", True),
    ("timeout", "States.Timeout", True),
    ("service-error", "Lambda.ServiceException", False),
    ("throttled", "Lambda.TooManyRequestsException", False),
])
def test_each_lambda_fault_is_seen_as_the_table_says(world, fault, error, handler_runs):
    world["faults"] = {"lambda": [{"state": "Probe", "fault": fault}]}
    with Simulation(world) as simulation:
        output = _probe(simulation, PREPARE)
        ran = bool([c for c in simulation.calls if c["function"] == "ScaleUpPrepareFunction"])
    assert output["Error"] == error
    assert ran == handler_runs  # its AWS calls happened, or the handler never ran
    if fault == "timeout":
        assert output["Cause"] == ""
    else:
        assert output["Cause"] and not output["Cause"].startswith("{")  # plain text, not the runtime's JSON


def test_a_lambda_fault_fires_times_then_the_invocations_succeed(world):
    world["faults"] = {"lambda": [{"state": "Prepare", "fault": "service-error", "times": 2}]}
    report = simulate("scale-up", world, {"cluster_id": "orders"}, echo_handler_output=False)
    assert report["status"] == "SUCCEEDED" and report["output"]["action"] == "created"
    assert report["world"]["faults"]["lambda"][0]["times"] == 0


def test_the_clock_charges_lambda_and_api_time(world):
    world["timing"].update(lambda_ms=1000, api_ms=2000)
    with Simulation(world) as simulation:
        started = simulation.now
        _probe(simulation, PREPARE)
        charged = (simulation.now - started).total_seconds()
        api_calls = len(simulation.calls)
    assert api_calls >= 2 and charged == 1 + 2 * api_calls


def test_a_task_slower_than_its_timeout_seconds_times_out_on_the_simulated_clock(world):
    world["timing"].update(api_ms=70_000)  # Prepare's two calls take 140 s: over its task's 120 s
    report = simulate("scale-up", world, {"cluster_id": "orders"}, echo_handler_output=False)
    prepares = [c for c in report["aws_calls"] if c["function"] == "ScaleUpPrepareFunction"]
    assert report["status"] == "FAILED" and report["error"] == "StepTimeout"  # States.Timeout, renamed
    assert len(prepares) == 2 * 5  # its calls happened, on the first attempt and each of 4 retries
    assert report["simulated_seconds"] >= 5 * 140


def test_an_express_execution_ends_timed_out_after_300_simulated_seconds(world):
    """API calls of 20 s: scale-down's evaluation and settling run past Express's 5 minutes."""
    world["policies"]["orders"]["scale_down"] = {"cpu_threshold": 50}
    world["timing"].update(api_ms=20_000, polls_until_deleted=1000)
    world["clusters"][0]["instances"].append(
        {"id": "orders-aops-00000000-1", "class": "db.r6g.large", "az": "us-east-1b", "cpu": 1,
         "tags": {"aurora-ops:created-by": "x"}})  # beside orders-2: removable, so the run deletes and settles
    for instance in world["clusters"][0]["instances"]:
        instance.setdefault("cpu", 1)
    report = simulate("scale-down", world, {}, echo_handler_output=False)
    assert report["status"] == "TIMED_OUT"
    assert report["world"]["locks"] == []  # released right after the delete, before any timeout


@pytest.mark.parametrize("code,expected", [("Throttling", "AwsThrottled"), ("InternalFailure", "AwsUnavailable"),
                                           ("EndpointConnectionError", "AwsUnavailable")])
def test_transient_api_errors_on_any_service_are_named_and_retried(world, code, expected):
    world["faults"] = {"api_errors": [{"service": "dynamodb", "operation": "PutItem", "code": code, "times": 1}]}
    report = simulate("scale-up", world, {"cluster_id": "orders"}, echo_handler_output=False)
    failed = [c for c in report["aws_calls"] if c["operation"] == "PutItem" and c["error"]]
    assert [c["error"] for c in failed] == [code] and failed[0]["service"] == "dynamodb"
    assert report["status"] == "SUCCEEDED" and report["output"]["action"] == "created"


def test_api_errors_default_to_rds(world):
    world["faults"] = {"api_errors": [{"operation": "DescribeDBClusters", "code": "AccessDenied"}]}
    report = simulate("scale-up", world, {"cluster_id": "orders"}, echo_handler_output=False)
    assert [c["error"] for c in calls(report, "DescribeDBClusters")] == ["AccessDenied"]
    assert report["status"] == "FAILED" and report["error"] == "AccessDenied"


def test_a_duplicate_start_runs_the_same_input_again_after_the_first(world):
    world["faults"] = {"duplicate_start": True}
    report = simulate("scale-up", world, {"cluster_id": "orders"}, echo_handler_output=False)
    duplicate = report["duplicate"]
    assert report["output"]["action"] == "created"
    assert set(duplicate) >= {"status", "error", "output", "aws_calls"}
    assert (duplicate["output"]["action"], duplicate["output"]["reason"]) == ("none", "cooldown")
    assert len([i for i in report["world"]["clusters"][0]["instances"] if "aops" in i["id"]]) == 1


def test_notifications_are_in_the_report(world):
    report = simulate("scale-up", world, {"cluster_id": "orders"}, echo_handler_output=False)
    (notification,) = report["notifications"]
    assert notification["subject"].startswith("aurora-ops scale-up: created")
    assert notification["message"]["instance_id"] == report["output"]["instance_id"]
    assert notification["attributes"] == {"workflow": "scale-up", "action": "created"}


# the RDS model: what RDS refuses and moto accepts -----------------------------------------
def _call(simulation, operation, **params):
    """A call as a handler makes it: through the simulator's hook."""
    client = boto3.client("rds", region_name="us-east-1")
    return simulation.api_call(client, operation, params, patches._original_make_api_call)


def test_rds_refuses_a_cluster_onto_an_existing_identifier(world):
    world["snapshots"] = [{"id": "snap", "cluster": "orders"}]
    with Simulation(world) as simulation:
        with pytest.raises(Exception) as raised:
            _call(simulation, "RestoreDBClusterFromSnapshot", DBClusterIdentifier="orders",
                  SnapshotIdentifier="snap", Engine="aurora-postgresql")
    assert raised.value.response["Error"]["Code"] == "DBClusterAlreadyExistsFault"


def test_rds_refuses_to_delete_an_instance_already_deleting(world):
    world["timing"]["polls_until_deleted"] = 5
    with Simulation(world) as simulation:
        _call(simulation, "DeleteDBInstance", DBInstanceIdentifier="orders-2")
        with pytest.raises(Exception) as raised:
            _call(simulation, "DeleteDBInstance", DBInstanceIdentifier="orders-2")
    assert raised.value.response["Error"]["Code"] == "InvalidDBInstanceState"


def test_at_most_five_snapshot_copies_in_progress_per_destination_region(world):
    world["snapshots"] = [{"id": "snap", "cluster": "orders"}]
    world["timing"]["polls_until_available"] = 10
    with Simulation(world) as simulation:
        for n in range(5):
            _call(simulation, "CopyDBClusterSnapshot", SourceDBClusterSnapshotIdentifier="snap",
                  TargetDBClusterSnapshotIdentifier=f"copy-{n}")
        with pytest.raises(Exception) as raised:
            _call(simulation, "CopyDBClusterSnapshot", SourceDBClusterSnapshotIdentifier="snap",
                  TargetDBClusterSnapshotIdentifier="copy-5")
    assert raised.value.response["Error"]["Code"] == "SnapshotQuotaExceeded"


def test_rds_refuses_a_serverless_instance_in_a_cluster_without_serverless_v2(world):
    world["clusters"].append({"id": "flex", "engine": "aurora-postgresql",
                              "serverless_v2": {"min_acu": 0.5, "max_acu": 16},
                              "instances": [{"id": "flex-1", "class": "db.r6g.large", "writer": True}]})
    params = {"DBInstanceClass": "db.serverless", "Engine": "aurora-postgresql"}
    with Simulation(world) as simulation:
        with pytest.raises(Exception) as raised:
            _call(simulation, "CreateDBInstance", DBInstanceIdentifier="orders-flex", DBClusterIdentifier="orders",
                  **params)
        _call(simulation, "CreateDBInstance", DBInstanceIdentifier="flex-2", DBClusterIdentifier="flex", **params)
        instances = {c["id"]: {i["id"] for i in c["instances"]} for c in simulation.dump_world()["clusters"]}
    assert raised.value.response["Error"]["Code"] == "InvalidDBClusterStateFault"
    assert "Serverless v2 scaling configuration" in raised.value.response["Error"]["Message"]
    assert instances == {"orders": {"orders-1", "orders-2"}, "flex": {"flex-1", "flex-2"}}


def test_snapshots_of_a_cluster_absent_from_the_world_leave_no_phantom():
    world = copy.deepcopy(BASE_WORLD)
    world["snapshots"] = [
        {"id": "gone-1", "cluster": "gone", "engine": "aurora-postgresql", "created": "2026-11-20T03:00:00Z"},
        {"id": "gone-2", "cluster": "gone", "engine": "aurora-postgresql", "created": "2026-11-21T03:00:00Z"},
    ]
    with Simulation(world) as simulation:
        snapshots = simulation.dump_world()["snapshots"]
    assert sorted(s["id"] for s in snapshots) == ["gone-1", "gone-2"]
