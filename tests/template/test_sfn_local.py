"""Step Functions Local (amazon/aws-stepfunctions-local) happy paths, through testcontainers.

The moto-based simulator (sim/aurora_ops_sim) stays the primary engine: AWS marks
Step Functions Local unsupported, and most machines here have no container runtime.
Where a Docker daemon answers on its socket, `pytest -m sfn_local` runs each
workflow's happy path on the real Step Functions Local interpreter, with the Lambda
tasks replaced by the mocked service integrations of tests/template/sfn_local/MockConfigFile.json.
Without Docker those tests are collected and SKIPPED with the reason (never failed).

The rest of this module runs everywhere: it checks the mock config against the ASL
files (tests/template/sfn_local/asl_walk.py walks each happy path with the mocked payloads)
and checks the Docker socket probe itself.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from aurora_ops_sim.template import load_template
from sfn_local import docker_probe
from sfn_local.asl_walk import LAMBDA_INVOKE, Walker, WalkError, all_states, invocation_keys

# its tests share what the module computes once (make test spreads the others test by test)
pytestmark = pytest.mark.xdist_group("sfn-local")

ROOT = Path(__file__).resolve().parents[2]
MOCK_CONFIG = Path(__file__).resolve().parent / "sfn_local" / "MockConfigFile.json"
IMAGE = "amazon/aws-stepfunctions-local"
MOCK_CONFIG_IN_CONTAINER = "/home/StepFunctionsLocal/MockConfigFile.json"
SFN_PORT = 8083
REGION, ACCOUNT = "us-east-1", "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/DummyRole"
TEST_CASE = "HappyPath"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")

# Checked once, at import, with the socket module only (no docker/testcontainers import).
DOCKER = docker_probe.probe()
requires_docker = pytest.mark.skipif(not DOCKER.ok, reason=DOCKER.reason)


# --------------------------------------------------------------------------- workflows
def _assert_scale_up_output(output: dict) -> None:
    assert output["action"] == "created", output
    for key in ("reason", "cluster_id", "instance_id", "instance_class", "availability_zone", "attempts"):
        assert key in output, key
    assert output["error"] is None and output["instance_id"]


def _assert_scale_down_output(output: dict) -> None:
    assert set(output) == {"decisions"}, output
    assert output["decisions"], "no decisions"
    for d in output["decisions"]:
        assert {"cluster_id", "action", "instance_id", "reason"} <= set(d), d
        assert "pending" not in d and d["reason"] != "error", d


def _assert_restore_output(output: dict) -> None:
    assert {"cluster_id", "region", "operation_id", "instances", "duration_seconds"} <= set(output), output
    assert output["instances"] and output["instances"][0]["role"] == "writer", output["instances"]
    for instance in output["instances"]:
        assert {"instance_id", "instance_class", "availability_zone", "role"} <= set(instance), instance


@dataclass(frozen=True)
class Workflow:
    asl_file: str  # DefinitionUri in template.yaml
    input_event: str  # events/<file>
    execution_name: str
    check_output: object


# Keys are the state machine names in MockConfigFile.json (and in Step Functions Local).
WORKFLOWS = {
    "ScaleUp": Workflow("statemachines/scale_up.asl.json", "manual.json", "sfn-local-scale-up",
                        _assert_scale_up_output),
    "ScaleDown": Workflow("statemachines/scale_down.asl.json", None, "sfn-local-scale-down",
                          _assert_scale_down_output),
    "SnapshotRestore": Workflow("statemachines/snapshot_restore.asl.json", "snapshot-restore.json",
                                "sfn-local-snapshot-restore", _assert_restore_output),
}


def execution_input(workflow: Workflow) -> dict:
    if workflow.input_event is None:
        return {}  # scale-down: every managed cluster with scale_down.enabled
    return json.loads((ROOT / "events" / workflow.input_event).read_text())


def mock_config() -> dict:
    return json.loads(MOCK_CONFIG.read_text())


def substitutions(asl_file: str) -> dict[str, str]:
    """template.yaml's DefinitionSubstitutions, each as a fake Lambda ARN named after
    the function's logical id (arn:aws:lambda:us-east-1:123456789012:function:<Name>)."""
    resources = load_template(ROOT / "template.yaml")["Resources"]
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::StateMachine" and props.get("DefinitionUri") == asl_file:
            out = {}
            for key, value in props.get("DefinitionSubstitutions", {}).items():
                get_att = value.get("Fn::GetAtt") if isinstance(value, dict) else None
                name = get_att[0] if get_att else key.removesuffix("Arn")
                out[key] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            return out
    raise KeyError(f"template.yaml has no state machine with DefinitionUri {asl_file}")


def definition_text(workflow: Workflow) -> str:
    text = (ROOT / workflow.asl_file).read_text()
    subs = substitutions(workflow.asl_file)
    text = PLACEHOLDER.sub(lambda m: subs[m.group(1)] if m.group(1) in subs else m.group(0), text)
    left = PLACEHOLDER.findall(text)
    assert not left, f"{workflow.asl_file}: no DefinitionSubstitutions for {left}"
    return text


def predicted_walk(name: str):
    workflow, config = WORKFLOWS[name], mock_config()
    case = config["StateMachines"][name]["TestCases"][TEST_CASE]
    walker = Walker(json.loads(definition_text(workflow)), case, config["MockedResponses"], workflow.execution_name)
    return walker.run(execution_input(workflow))


# ------------------------------------------------------- offline checks of the mock config
def test_mock_config_has_one_happy_path_per_workflow():
    config = mock_config()
    assert set(config) == {"StateMachines", "MockedResponses"}
    assert set(config["StateMachines"]) == set(WORKFLOWS)
    for name, machine in config["StateMachines"].items():
        assert set(machine) == {"TestCases"}, name
        assert TEST_CASE in machine["TestCases"], name


@pytest.mark.parametrize("name", WORKFLOWS)
def test_mocked_states_are_lambda_tasks_of_their_state_machine(name):
    config = mock_config()
    states = all_states(json.loads(definition_text(WORKFLOWS[name])))
    for case_name, case in config["StateMachines"][name]["TestCases"].items():
        for state_name, response_name in case.items():
            assert state_name in states, f"{name}/{case_name}: no state {state_name} in {WORKFLOWS[name].asl_file}"
            state = states[state_name]
            assert state["Type"] == "Task", f"{name}/{case_name}: {state_name} is a {state['Type']}, not a Task"
            assert state["Resource"] == LAMBDA_INVOKE, f"{name}/{case_name}: {state_name} is not a lambda:invoke Task"
            assert response_name in config["MockedResponses"], f"{name}/{case_name}: {response_name} is not defined"


def test_mocked_responses_are_well_formed_and_all_referenced():
    config = mock_config()
    referenced = {r for m in config["StateMachines"].values() for c in m["TestCases"].values() for r in c.values()}
    assert set(config["MockedResponses"]) == referenced, "unreferenced mocked responses"
    for response_name, responses in config["MockedResponses"].items():
        covered = []
        for key, response in responses.items():
            covered.extend(invocation_keys(key))
            assert len(response) == 1 and set(response) <= {"Return", "Throw"}, f"{response_name}[{key}]"
            if "Return" in response:  # the lambda:invoke result: OutputPath $.Payload takes the payload
                assert response["Return"].get("StatusCode") == 200, f"{response_name}[{key}]"
                assert isinstance(response["Return"].get("Payload"), dict), f"{response_name}[{key}]"
        assert sorted(covered) == list(range(len(covered))), f"{response_name}: invocations {covered} overlap or skip"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_happy_path_walk_covers_every_task_and_succeeds(name):
    """Walk the ASL from StartAt with the mocked payloads: every Choice routes on
    present fields, every Task reached (Map iterations included) has a mock for
    that invocation, every Wait gets a small integer, and the end is Succeed."""
    walk = predicted_walk(name)
    config = mock_config()
    case = config["StateMachines"][name]["TestCases"][TEST_CASE]
    assert walk.end_state == "Done"
    WORKFLOWS[name].check_output(walk.output)
    assert set(walk.task_invocations) == set(case), "a mocked state is never reached on the happy path"
    for state_name, response_name in case.items():  # each defined invocation is used, none left over
        defined = {str(k) for key in config["MockedResponses"][response_name] for k in invocation_keys(key)}
        used = {str(i) for i in range(walk.task_invocations[state_name])}
        assert used == defined, f"{state_name}: invoked {sorted(used)}, mocked {sorted(defined)}"


def test_walker_rejects_an_unmocked_task_and_a_missing_choice_field():
    """The walk is strict: the checks above would catch a broken mock config."""
    workflow, config = WORKFLOWS["ScaleUp"], mock_config()
    definition = json.loads(definition_text(workflow))
    case = dict(config["StateMachines"]["ScaleUp"]["TestCases"][TEST_CASE])
    del case["Finish"]
    with pytest.raises(WalkError, match="Task Finish is reached"):
        Walker(definition, case, config["MockedResponses"], "x").run(execution_input(workflow))
    responses = json.loads(json.dumps(config["MockedResponses"]))
    del responses["ScaleUpCreateReaderAccepted"]["0"]["Return"]["Payload"]["failure"]
    with pytest.raises(WalkError, match=r"Choice Variable \$\.failure does not exist"):
        Walker(definition, config["StateMachines"]["ScaleUp"]["TestCases"][TEST_CASE], responses, "x").run(
            execution_input(workflow))


@pytest.mark.parametrize("name", WORKFLOWS)
def test_definitions_get_a_fake_lambda_arn_for_every_placeholder(name):
    workflow = WORKFLOWS[name]
    raw = (ROOT / workflow.asl_file).read_text()
    subs = substitutions(workflow.asl_file)
    assert set(PLACEHOLDER.findall(raw)) == set(subs)
    tasks = [s for s in all_states(json.loads(definition_text(workflow))).values() if s["Type"] == "Task"]
    for task in tasks:
        assert re.fullmatch(rf"arn:aws:lambda:{REGION}:{ACCOUNT}:function:[A-Za-z0-9]+",
                            task["Parameters"]["FunctionName"]), task["Parameters"]["FunctionName"]


# ------------------------------------------------------------- the Docker socket probe
def _short_tmpdir():
    return tempfile.TemporaryDirectory(prefix="sfnl", dir="/tmp" if os.path.isdir("/tmp") else None)


def _serve_once(path: str, response: bytes) -> threading.Thread:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def run():
        with server:
            conn, _ = server.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(response)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_socket_path_follows_unix_docker_host_only():
    assert docker_probe.socket_path({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}) == "/run/user/1000/docker.sock"
    assert docker_probe.socket_path({"DOCKER_HOST": "tcp://10.0.0.1:2375"}) == "/var/run/docker.sock"
    assert docker_probe.socket_path({}) == "/var/run/docker.sock"


def test_probe_skips_when_the_socket_is_absent(monkeypatch):
    with _short_tmpdir() as tmp:
        path = os.path.join(tmp, "docker.sock")
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        status = docker_probe.probe()
    assert not status.ok
    assert status.socket_path == path
    assert path in status.reason and "no such socket file" in status.reason
    assert status.reason.startswith("Step Functions Local tests need Docker")


def test_probe_skips_when_the_connection_is_refused():
    with _short_tmpdir() as tmp:
        path = os.path.join(tmp, "docker.sock")
        bound = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        bound.bind(path)  # bound, never listening: connect() is refused
        with bound:
            status = docker_probe.probe(path)
    assert not status.ok
    assert path in status.reason and "connect() failed" in status.reason


def test_probe_skips_when_the_path_is_not_a_socket():
    with _short_tmpdir() as tmp:
        path = os.path.join(tmp, "docker.sock")
        Path(path).write_text("")
        status = docker_probe.probe(path)
    assert not status.ok and "connect() failed" in status.reason and path in status.reason


def test_probe_skips_on_a_bad_ping():
    with _short_tmpdir() as tmp:
        path = os.path.join(tmp, "docker.sock")
        thread = _serve_once(path, b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nnope")
        status = docker_probe.probe(path)
        thread.join(5)
    assert not status.ok
    assert path in status.reason and "GET /_ping answered 'HTTP/1.1 500 Internal Server Error'" in status.reason


def test_probe_accepts_a_daemon_that_answers_ok():
    with _short_tmpdir() as tmp:
        path = os.path.join(tmp, "docker.sock")
        thread = _serve_once(path, b"HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nContent-Type: text/plain\r\n"
                                   b"Content-Length: 2\r\n\r\nOK")
        status = docker_probe.probe(path)
        thread.join(5)
    assert status.ok, status.reason


def test_sfn_local_tests_skip_without_docker_and_import_no_docker_library():
    """`pytest -m sfn_local` on a machine without Docker: collected, skipped with the reason, exit 0."""
    with _short_tmpdir() as tmp:
        path = os.path.join(tmp, "absent.sock")
        env = {**os.environ, "DOCKER_HOST": f"unix://{path}"}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", __file__, "-m", "sfn_local", "-rs", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        probe_import = subprocess.run(
            [sys.executable, "-c",
             "import sys; sys.path.insert(0, 'tests/template'); import test_sfn_local as t;"
             "print(t.DOCKER.ok, 'testcontainers' in sys.modules, 'docker' in sys.modules)"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(WORKFLOWS)} skipped" in run.stdout, run.stdout
    assert "failed" not in run.stdout and "error" not in run.stdout.lower(), run.stdout
    assert f"no such socket file (Docker socket {path})" in run.stdout, run.stdout
    assert probe_import.stdout.split() == ["False", "False", "False"], probe_import.stdout + probe_import.stderr


# ------------------------------------------------------ Step Functions Local in Docker
@pytest.fixture(scope="module")
def sfn_client():
    """A Step Functions Local container with the mock config mounted; yields a boto3 client."""
    if not DOCKER.ok:
        pytest.skip(DOCKER.reason)
    with pytest.MonkeyPatch.context() as mp:
        # testcontainers (and its Ryuk reaper) talk to the socket that answered the probe.
        mp.setenv("DOCKER_HOST", f"unix://{DOCKER.socket_path}")
        import boto3  # lazily, like testcontainers: only when Docker answered
        from botocore.config import Config
        from testcontainers.core.container import DockerContainer

        container = (
            DockerContainer(IMAGE)
            .with_env("SFN_MOCK_CONFIG", MOCK_CONFIG_IN_CONTAINER)
            .with_env("AWS_DEFAULT_REGION", REGION)
            .with_env("AWS_ACCOUNT_ID", ACCOUNT)
            .with_volume_mapping(str(MOCK_CONFIG), MOCK_CONFIG_IN_CONTAINER, "ro")
            .with_exposed_ports(SFN_PORT)
        )
        container.start()
        try:
            endpoint = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(SFN_PORT)}"
            client = boto3.client("stepfunctions", endpoint_url=endpoint, region_name=REGION,
                                  aws_access_key_id="test", aws_secret_access_key="test",
                                  config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))
            _wait_until_ready(client, container)
            yield client
        finally:
            container.stop()


def _wait_until_ready(client, container, timeout: float = 90) -> None:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            client.list_state_machines()
            return
        except Exception as e:  # connection refused/reset while the JVM starts
            last = e
            time.sleep(1)
    stdout, stderr = container.get_logs()
    pytest.fail(f"Step Functions Local did not answer within {timeout}s: {last!r}\n"
                f"{stdout.decode(errors='replace')[-3000:]}{stderr.decode(errors='replace')[-3000:]}")


def _history(client, execution_arn: str) -> list[dict]:
    events, kwargs = [], {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = client.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


@pytest.mark.sfn_local
@requires_docker
@pytest.mark.parametrize("name", WORKFLOWS)
def test_happy_path_on_step_functions_local(sfn_client, name):
    workflow = WORKFLOWS[name]
    try:
        # Created STANDARD even for scale-down (EXPRESS in template.yaml): DescribeExecution,
        # which these tests poll, does not exist for Express executions in Step Functions.
        arn = sfn_client.create_state_machine(name=name, definition=definition_text(workflow), roleArn=ROLE_ARN,
                                              type="STANDARD")["stateMachineArn"]
    except sfn_client.exceptions.InvalidDefinition as e:
        pytest.fail(f"Step Functions Local rejects {workflow.asl_file}: {e}. It lags the service; fields such as "
                    "JitterStrategy/MaxDelaySeconds (Retry) or ErrorPath/CausePath (Fail) may be unknown to it. "
                    "Do not change the ASL for it; the simulator is the primary engine.")
    started = sfn_client.start_execution(stateMachineArn=f"{arn}#{TEST_CASE}", name=workflow.execution_name,
                                         input=json.dumps(execution_input(workflow)))
    deadline = time.monotonic() + 180
    while True:
        described = sfn_client.describe_execution(executionArn=started["executionArn"])
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    events = _history(sfn_client, started["executionArn"])
    failures = [e for e in events if e["type"].endswith(("Failed", "TimedOut", "Aborted"))]
    assert described["status"] == "SUCCEEDED", json.dumps(failures or events[-5:], default=str, indent=1)[:6000]

    output = json.loads(described["output"])
    workflow.check_output(output)
    expected = predicted_walk(name)  # the offline walk of the same mocks predicts the whole run
    assert output == expected.output
    entered = Counter(e["stateEnteredEventDetails"]["name"] for e in events if e["type"] == "TaskStateEntered")
    assert entered == expected.task_invocations
