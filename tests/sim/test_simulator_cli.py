"""The `aurora-ops simulate` command's contract: report, exit codes, one-line errors."""

import io
import json
import subprocess
import sys
from importlib import metadata

import pytest
import yaml

from aurora_ops_sim import cli
from aurora_ops_sim.engine import WORKFLOWS
from conftest import BASE_WORLD


def aurora_ops_process(*args, stdin=None):
    """The real command in its own process: what a user's shell runs."""
    return subprocess.run([sys.executable, "-m", "aurora_ops_sim.cli", *args],
                          capture_output=True, text=True, input=stdin, timeout=120)


def aurora_ops(*args, stdin=None):
    """The same command in this process (a new process costs ~2 s of imports)."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin or ""), out, err
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse
        code = exc.code
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def write_world(tmp_path, world=BASE_WORLD):
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(world))
    return str(path)


def test_json_report_is_exactly_one_object_with_the_contract_fields(tmp_path):
    result = aurora_ops_process("simulate", "scale-up", "--world", write_world(tmp_path), "--input", "-", "--json",
                        stdin='{"cluster_id": "orders"}')
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"workflow", "status", "error", "cause", "output", "states", "transitions",
            "lambda_invocations", "aws_calls", "world"} <= set(report)
    assert report["workflow"] == "scale-up" and report["status"] == "SUCCEEDED"
    mutating = [c for c in report["aws_calls"] if c["operation"] in ("CreateDBInstance", "Publish")]
    assert mutating and all("params" in c for c in mutating)


def test_human_readable_account(tmp_path):
    result = aurora_ops("simulate", "scale-up", "--world", write_world(tmp_path), "--input", "events/manual.json")
    assert result.returncode == 0, result.stderr
    assert "SUCCEEDED" in result.stdout and "rds:CreateDBInstance" in result.stdout
    assert "+ instance orders-aops-" in result.stdout and "\033[" not in result.stdout  # not a terminal: no colour


def test_a_failed_execution_still_exits_zero(tmp_path):
    result = aurora_ops("simulate", "scale-up", "--world", write_world(tmp_path), "--input", "-", "--json",
                        stdin='{"cluster_id": 5}')
    assert result.returncode == 0
    assert json.loads(result.stdout)["error"] == "InvalidInput"


def one_line_error(result):
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr


def test_bad_world_names_the_offending_field(tmp_path):
    world = json.loads(json.dumps(BASE_WORLD))
    world["clusters"][0]["instances"][1]["class"] = 42
    stderr = one_line_error(aurora_ops("simulate", "scale-up", "--world", write_world(tmp_path, world),
                                       "--input", "events/manual.json"))
    assert "world.clusters[0].instances[1].class" in stderr


def test_bad_policy_in_world_names_the_field(tmp_path):
    world = json.loads(json.dumps(BASE_WORLD))
    world["policies"]["orders"]["max_readers"] = -1
    stderr = one_line_error(aurora_ops("simulate", "scale-up", "--world", write_world(tmp_path, world),
                                       "--input", "events/manual.json"))
    assert "world.policies.orders.max_readers" in stderr


def test_two_writers_is_a_bad_world(tmp_path):
    world = json.loads(json.dumps(BASE_WORLD))
    world["clusters"][0]["instances"][1]["writer"] = True
    assert "writer" in one_line_error(aurora_ops("simulate", "scale-up", "--world", write_world(tmp_path, world),
                                                 "--input", "events/manual.json"))


def test_unknown_workflow_missing_files_and_bad_json(tmp_path):
    world = write_world(tmp_path)
    assert "unknown workflow" in one_line_error(aurora_ops("simulate", "scale-sideways", "--world", world, "--input", "events/manual.json"))
    assert "cannot read world" in one_line_error(aurora_ops("simulate", "scale-up", "--world", "nope.yaml", "--input", "events/manual.json"))
    assert "cannot read input" in one_line_error(aurora_ops("simulate", "scale-up", "--world", world, "--input", "nope.json"))
    assert "not JSON" in one_line_error(aurora_ops("simulate", "scale-up", "--world", world, "--input", "-", stdin="{oops"))
    (tmp_path / "broken.yaml").write_text("clusters: [\n")
    assert "not valid YAML" in one_line_error(aurora_ops("simulate", "scale-up", "--world", str(tmp_path / "broken.yaml"), "--input", "events/manual.json"))


def test_example_worlds_are_valid():
    import glob

    from aurora_ops_sim import load_world

    paths = glob.glob("examples/*.yaml")
    assert paths
    for path in paths:
        load_world(path)


def test_a_world_aws_would_refuse_is_a_bad_world(tmp_path):
    world = json.loads(json.dumps(BASE_WORLD))
    world["clusters"][0]["instances"][0]["class"] = "db.r6g.large"
    world["clusters"][0]["engine_version"] = "16.4"
    world["snapshots"] = [{"id": "s1", "cluster": "orders"}, {"id": "s1", "cluster": "orders"}]
    assert "used twice" in one_line_error(aurora_ops("simulate", "scale-up", "--world", write_world(tmp_path, world),
                                                     "--input", "events/manual.json"))


def test_a_policy_key_that_matches_no_cluster_is_warned_about(tmp_path):
    world = {**BASE_WORLD, "policies": {**BASE_WORLD["policies"], "ordrs": {}}}
    result = aurora_ops("simulate", "scale-up", "--world", write_world(tmp_path, world), "--input", "-", "--json",
                        stdin='{"cluster_id": "orders"}')
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warnings == ["aurora-ops: warning: world.policies.ordrs matches no cluster of the world "
                        "(a typo leaves that cluster unmanaged)"]
    from aurora_ops_sim.world import load_world, unmatched_policy_keys

    restore = load_world("examples/restore.yaml")  # its policy names the cluster a restore creates
    assert unmatched_policy_keys(restore) == ["orders-restored"]
    assert unmatched_policy_keys(restore, created=["orders-restored"]) == []


# In process from here on: the same main() the console script runs, without a new interpreter.

def write_input(tmp_path, document, name="input.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("command", ["simulate", "chaos"])
def test_help_lists_every_workflow(capsys, command):
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert f"Workflows: {', '.join(WORKFLOWS)}." in shown and f"one of: {', '.join(WORKFLOWS)}" in shown


def test_version_is_the_installed_distribution_s(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"aurora-ops {metadata.version('aurora-ops')}\n"


def test_fail_on_error_exits_1_when_the_execution_did_not_succeed(tmp_path, capsys):
    world = write_world(tmp_path)
    bad = write_input(tmp_path, {"cluster_id": 5}, "bad.json")
    dry_run = write_input(tmp_path, {"cluster_id": "orders", "dry_run": True}, "dry-run.json")
    simulate = ["simulate", "scale-up", "--world", world, "--input"]
    assert cli.main(simulate + [bad]) == 0  # the contract: 0 whenever it ran
    assert cli.main(simulate + [bad, "--fail-on-error"]) == 1
    capsys.readouterr()
    assert cli.main(simulate + [bad, "--fail-on-error", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "FAILED"
    assert cli.main(simulate + [dry_run, "--fail-on-error"]) == 0
    assert cli.main(["simulate", "scale-sideways", "--world", world, "--input", bad, "--fail-on-error"]) == 2


@pytest.mark.parametrize("no_color,coloured", [(None, True), ("1", False), ("", True)])
def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path, capsys, monkeypatch, no_color, coloured):
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    args = ["simulate", "scale-up", "--world", write_world(tmp_path), "--input",
            write_input(tmp_path, {"cluster_id": 5})]
    assert cli.main(args) == 0
    assert ("\033[" in terminal.getvalue()) is coloured and "error: " in terminal.getvalue()
    monkeypatch.undo()
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli.main(args) == 0  # stdout not a terminal (captured)
    out = capsys.readouterr().out
    assert "error: InvalidInput" in out and "\033[" not in out
