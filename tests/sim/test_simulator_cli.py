"""The `aurora-ops simulate` command's contract: report, exit codes, one-line errors."""

import json
import subprocess
import sys

import yaml

from conftest import BASE_WORLD


def aurora_ops(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "aurora_ops_sim.cli", *args],
                          capture_output=True, text=True, input=stdin, timeout=120)


def write_world(tmp_path, world=BASE_WORLD):
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(world))
    return str(path)


def test_json_report_is_exactly_one_object_with_the_contract_fields(tmp_path):
    result = aurora_ops("simulate", "scale-up", "--world", write_world(tmp_path), "--input", "-", "--json",
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
    assert "SUCCEEDED" in result.stdout and "rds:CreateDBInstance" in result.stdout and "+ orders-aops-" in result.stdout


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
