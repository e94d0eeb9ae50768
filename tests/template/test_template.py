"""Properties of template.yaml and the ASL files that the workflows rely on."""

import glob
import importlib
import json

from aurora_ops.aws import locks as lock
from aurora_ops_sim.template import Template

ROOT = "."


def test_every_state_machine_has_a_timeout_and_no_execution_outlives_its_lock():
    from aurora_ops.workflows.scale_down import steps as scale_down

    lock_ttl = {"scale_up": lock.LOCK_TTL_SECONDS, "scale_down": scale_down.LOCK_TTL_SECONDS,
                "failover": lock.LOCK_TTL_SECONDS}
    paths = glob.glob("statemachines/*.asl.json")
    assert len(paths) >= 3
    for path in paths:
        timeout = json.load(open(path)).get("TimeoutSeconds")
        assert timeout, f"{path} has no TimeoutSeconds"
        name = path.rsplit("/", 1)[-1].removesuffix(".asl.json")
        if name in lock_ttl:
            assert timeout <= lock_ttl[name], f"{path} can outlive its lock"


def test_scale_down_is_express_and_its_waits_fit_in_express_limits():
    from aurora_ops.workflows.scale_down import steps as scale_down

    doc = Template(__import__("pathlib").Path(ROOT)).doc
    assert doc["Resources"]["ScaleDownStateMachine"]["Properties"]["Type"] == "EXPRESS"
    definition = json.load(open("statemachines/scale_down.asl.json"))
    assert definition["TimeoutSeconds"] <= 300  # Express runs at most 5 minutes
    assert scale_down.MAX_DELETE_POLLS * scale_down.DELETE_POLL_SECONDS + 60 < definition["TimeoutSeconds"]


def test_every_handler_in_the_template_exists():
    template = Template(__import__("pathlib").Path(ROOT))
    assert template.functions
    for function in template.functions.values():
        module, attribute = function.handler.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), attribute)), function.handler


def test_functions_run_python_3_13_on_arm64():
    doc = Template(__import__("pathlib").Path(ROOT)).doc
    assert doc["Globals"]["Function"]["Runtime"] == "python3.13"
    assert doc["Globals"]["Function"]["Architectures"] == ["arm64"]


def test_the_slowest_bounded_scale_up_finishes_inside_the_state_machine_timeout():
    """Worst case: every allowed lost reader uses all its create and delete polls."""
    from aurora_ops.workflows.scale_up import steps as s

    per_lost_reader = (s.FIRST_POLL_SECONDS + (s.MAX_CREATE_POLLS - 1) * s.POLL_SECONDS
                       + s.MAX_DELETE_POLLS * s.DELETE_POLL_SECONDS)
    # plus one reader that finally becomes available on its last poll
    worst = s.MAX_LOST_READERS * per_lost_reader + s.FIRST_POLL_SECONDS + (s.MAX_CREATE_POLLS - 1) * s.POLL_SECONDS
    timeout = json.load(open("statemachines/scale_up.asl.json"))["TimeoutSeconds"]
    assert worst + 600 < timeout, (worst, timeout)  # 10 minutes for Lambda time and retries


def test_substitution_check_passes_here_and_catches_breakage(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_substitutions", "scripts/check_substitutions.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)  # in this process: the same main() `make lint` runs
    assert script.main([]) == 0
    assert script.main(["--self-test"]) == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [\n")
    assert script.main(["--template", str(broken)]) == 2


def test_the_slowest_bounded_restore_finishes_inside_the_state_machine_timeout():
    from aurora_ops.workflows.snapshot_restore import steps as r

    worst = (r.COPY_POLL_SECONDS * r.MAX_COPY_POLLS + r.CLUSTER_POLL_SECONDS * r.MAX_CLUSTER_POLLS
             + r.INSTANCE_POLL_SECONDS * r.MAX_INSTANCE_POLLS + r.CLEANUP_POLL_SECONDS * r.MAX_CLEANUP_POLLS)
    timeout = json.load(open("statemachines/snapshot_restore.asl.json"))["TimeoutSeconds"]
    assert worst + 3600 < timeout, (worst, timeout)  # an hour for Lambda time and retries


NESTED = "arn:aws:states:::states:startExecution.sync:2"


def _tasks(states):
    """Every Lambda Task, Map iterators included (nested executions: test_nested_executions_...)."""
    for name, state in states.items():
        if state["Type"] == "Task" and state["Resource"] != NESTED:
            yield name, state
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _tasks(state[key]["States"])


def _machines():
    doc = Template(__import__("pathlib").Path(ROOT)).doc
    for logical_id, resource in doc["Resources"].items():
        if resource["Type"] == "AWS::Serverless::StateMachine":
            props = resource["Properties"]
            yield doc, props, json.load(open(props["DefinitionUri"]))


def test_every_task_times_out_after_its_function_would():
    """A Task that times out while its function still runs would leave a change unreported."""
    checked = 0
    for doc, props, definition in _machines():
        default = doc["Globals"]["Function"]["Timeout"]
        for name, task in _tasks(definition["States"]):
            placeholder = task["Parameters"]["FunctionName"].strip("${}")
            function = props["DefinitionSubstitutions"][placeholder]["Fn::GetAtt"][0]
            timeout = doc["Resources"][function]["Properties"].get("Timeout", default)
            assert task["TimeoutSeconds"] > timeout, f"{name}: {task['TimeoutSeconds']} s <= {function}'s {timeout} s"
            checked += 1
    assert checked >= 21


def test_every_task_retries_lambdas_transient_errors_and_aws_throttling():
    """AWS's recommended Lambda retries, plus States.Timeout and Lambda.Unknown: every step is safe to repeat."""
    recommended = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                   "Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException"}
    for _, _, definition in _machines():
        for name, task in _tasks(definition["States"]):
            retried = [set(r["ErrorEquals"]) for r in task["Retry"]]
            assert recommended | {"States.Timeout", "Lambda.Unknown"} <= retried[0], name
            assert {"AwsThrottled", "AwsUnavailable"} <= retried[1], name


def test_the_drill_schedule_is_off_by_default_and_drills_with_failback():
    doc = Template(__import__("pathlib").Path(ROOT)).doc
    schedule = doc["Resources"]["FailoverDrillScheduleTrigger"]
    assert schedule["Condition"] == "HasDrillSchedule"
    assert doc["Parameters"]["DrillSchedule"]["Default"] == "" and doc["Parameters"]["DrillClusterId"]["Default"] == ""
    assert doc["Conditions"]["HasDrillSchedule"] == {"Fn::And": [
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "DrillSchedule"}, ""]}]},
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "DrillClusterId"}, ""]}]}]}
    target = schedule["Properties"]["Target"]
    assert json.loads(target["Input"]["Fn::Sub"].replace("${DrillClusterId}", "orders")) == {
        "operation": "drill", "cluster_id": "orders", "failback": True, "trigger": "schedule"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0}  # a failover is never started twice


def test_nested_executions_are_the_snapshot_restore_state_machine_retried_and_caught():
    """restore-drill reuses snapshot-restore as a nested execution (not a copy of its steps);
    a failure of it goes to the drill's cleanup."""
    doc = Template(__import__("pathlib").Path(ROOT)).doc
    props = doc["Resources"]["RestoreDrillStateMachine"]["Properties"]
    definition = json.load(open("statemachines/restore_drill.asl.json"))
    restore = definition["States"]["Drills"]["ItemProcessor"]["States"]["Restore"]
    assert restore["Resource"] == NESTED
    assert props["DefinitionSubstitutions"]["SnapshotRestoreStateMachineArn"] == {"Ref": "SnapshotRestoreStateMachine"}
    assert restore["Parameters"]["StateMachineArn"] == "${SnapshotRestoreStateMachineArn}"
    assert restore["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.restore_error", "Next": "Cleanup"}]
    assert "StepFunctions.ThrottlingException" in restore["Retry"][0]["ErrorEquals"]
    nested = [name for _, _, d in _machines() for name, state in _all_states(d["States"])
              if state.get("Resource") == NESTED]
    assert nested == ["Restore"]


def _all_states(states):
    for name, state in states.items():
        yield name, state
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _all_states(state[key]["States"])


def test_the_restore_drill_schedule_is_off_by_default_and_never_retried():
    doc = Template(__import__("pathlib").Path(ROOT)).doc
    schedule = doc["Resources"]["RestoreDrillScheduleTrigger"]
    assert schedule["Condition"] == "HasRestoreDrillSchedule" and doc["Parameters"]["RestoreDrillSchedule"]["Default"] == ""
    target = schedule["Properties"]["Target"]
    assert json.loads(target["Input"]) == {"trigger": "schedule"} and target["RetryPolicy"] == {"MaximumRetryAttempts": 0}
