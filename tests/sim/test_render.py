"""The human-readable account, on real simulation reports (the examples' worlds and
events): a timeline on the simulated clock, plans as tables, labelled Map
iterations, scale-down's numbers, failures made readable, duplicates, the world's change."""

import copy
import json
import re

import pytest

from aurora_ops_sim import load_world, simulate
from aurora_ops_sim.render import render
from aurora_ops_sim.render_style import Style, readable_cause
from aurora_ops_sim.render_timeline import clock
from conftest import BASE_WORLD, load_event

# its tests share what the module computes once (make test spreads the others test by test)
pytestmark = pytest.mark.xdist_group("render")

ESCAPE = "\033["


def simulated(workflow, world, execution_input):
    """(report, human-readable account) of one simulation; `world` is an example's path or a world."""
    loaded = load_world(world)
    report = simulate(workflow, loaded, execution_input, echo_handler_output=False)
    return report, render(report, loaded)


def events(name):
    with open(f"events/{name}") as f:
        return json.load(f)


def lines(text):
    """Each line with its spacing collapsed: what a reader sees, without the column padding."""
    return [" ".join(line.split()) for line in text.splitlines()]


@pytest.fixture(scope="module")
def crunch():
    return simulated("scale-up", "examples/capacity-crunch.yaml", events("manual.json"))


@pytest.fixture(scope="module")
def scale_down():
    return simulated("scale-down", "examples/scale-down.yaml", events("scale-down-all.json"))


@pytest.fixture(scope="module")
def restore():
    return simulated("snapshot-restore", "examples/restore.yaml", events("snapshot-restore.json"))


@pytest.fixture(scope="module")
def exhausted():
    return simulated("scale-up", "examples/all-exhausted.yaml", events("manual.json"))


@pytest.fixture(scope="module")
def faulty():
    """Throttling, a Lambda service error and a lost response, and the event started twice."""
    world = copy.deepcopy(BASE_WORLD)
    world["faults"] = {"duplicate_start": True,
                       "api_errors": [{"operation": "DescribeDBClusters", "code": "Throttling", "times": 1}],
                       "lambda": [{"state": "CreateReader", "fault": "service-error"},
                                  {"state": "CheckReader", "fault": "lost-response"}]}
    return simulated("scale-up", world, load_event("alarm-reader-load.json"))


def test_the_timeline_is_on_the_simulated_clock_with_region_and_identifiers_on_every_call(crunch):
    report, text = crunch
    seen = lines(text)
    assert "Timeline (the simulated clock; T+0:00 is 2026-11-24T12:00:00Z):" in seen
    for expected in [
        "T+0:00 Prepare",
        "T+0:01 rds:CreateDBInstance us-east-1 db.r6g.large us-east-1a orders-aops-7cbd1beb-1 (cluster orders) "
        "-> InsufficientDBInstanceCapacity",
        "T+0:02 rds:CreateDBInstance us-east-1 db.r6g.xlarge us-east-1a orders-aops-7cbd1beb-4 (cluster orders)",
        "T+0:02 wait 5:00 (WaitForReader)",
        "T+5:02 poll orders-aops-7cbd1beb-4: creating (rds:DescribeDBInstances us-east-1)",
        "T+7:03 poll orders-aops-7cbd1beb-4: insufficient-capacity (rds:DescribeDBInstances us-east-1)",
        "T+7:03 rds:DeleteDBInstance us-east-1 orders-aops-7cbd1beb-4",
        "T+8:04 poll orders-aops-7cbd1beb-4: not found (DBInstanceNotFound) (rds:DescribeDBInstances us-east-1)",
        "T+15:05 poll orders-aops-7cbd1beb-5: available (rds:DescribeDBInstances us-east-1)",
        "T+15:06 sns:Publish us-east-1 'aurora-ops scale-up: created orders-aops-7cbd1beb-5 (orders)'",
        "T+15:06 execution SUCCEEDED",
    ]:
        assert expected in seen
    timed = [line for line in seen if line.startswith("T+")]
    calls = [line for line in timed if re.match(r"T\+[\d:]+ (poll |\w+:\w+ )", line)]
    assert len(calls) == len(report["aws_calls"]) and all("us-east-1" in line for line in calls)
    seconds = [sum(int(p) * 60 ** i for i, p in enumerate(reversed(line.split()[0][2:].split(":")))) for line in timed]
    assert seconds == sorted(seconds)


def test_each_call_and_step_carries_its_simulated_time(crunch):
    report, _ = crunch
    assert report["started_at"] == "2026-11-24T12:00:00Z"
    assert all({"at", "region", "task", "state"} <= set(call) for call in report["aws_calls"])
    waits = [e for e in report["timeline"] if e["event"] == "state" and e["type"] == "Wait"]
    assert [w["seconds"] for w in waits][:3] == [300, 60, 60]
    creates = [c for c in report["aws_calls"] if c["operation"] == "CreateDBInstance"]
    assert [c["state"] for c in creates] == ["CreateReader"] * 5 and creates[-1]["at"] > 480
    assert report["timeline"][-1] == {"at": report["simulated_seconds"], "event": "end", "status": "SUCCEEDED",
                                      "error": None, "cause": None, "iteration": None}


def test_the_plan_is_a_table_of_candidates_why_each_sits_there_and_what_each_attempt_gave(crunch):
    _, text = crunch
    seen = lines(text)
    assert ("Plan (instance-priority: classes in the policy's order, each in every AZ; AZs with the fewest readers "
            "first, ties in the policy's order):") in seen
    assert seen[seen.index("# class AZ why here result") + 1:][:6] == [
        "1 db.r6g.large us-east-1a class 1 of 2; 0 readers in us-east-1a insufficient-capacity (orders-aops-7cbd1beb-1)",
        "2 db.r6g.large us-east-1c class 1 of 2; 0 readers in us-east-1c insufficient-capacity (orders-aops-7cbd1beb-2)",
        "3 db.r6g.large us-east-1b class 1 of 2; 1 reader in us-east-1b insufficient-capacity (orders-aops-7cbd1beb-3)",
        "4 db.r6g.xlarge us-east-1a class 2 of 2; 0 readers in us-east-1a capacity-lost (orders-aops-7cbd1beb-4)",
        "5 db.r6g.xlarge us-east-1c class 2 of 2; 0 readers in us-east-1c available (orders-aops-7cbd1beb-5)",
        "6 db.r6g.xlarge us-east-1b class 2 of 2; 1 reader in us-east-1b not tried",
    ]
    assert "Outcome: created (reader load high)" in seen


def test_a_dry_run_plan_says_what_was_left_out_and_why(world):
    world["policies"]["orders"]["instance_classes"] = ["db.r6g.medium", "db.serverless", "db.r6g.large"]
    world["faults"] = {"not_orderable": [{"class": "db.r6g.large", "az": "us-east-1c"}]}
    report, text = simulated("scale-up", world, {"cluster_id": "orders", "dry_run": True})
    seen = lines(text)
    assert report["output"]["action"] == "dry-run" and "Outcome: dry-run (dry-run)" in seen
    assert seen[seen.index("# class AZ why here result") + 1:][:3] == [
        "1 db.r6g.large us-east-1a class 3 of 3; 0 readers in us-east-1a (dry run: not tried)",
        "2 db.r6g.large us-east-1b class 3 of 3; 1 reader in us-east-1b (dry run: not tried)",
        "not orderable: db.r6g.large in us-east-1c",
    ]
    assert "excluded: db.r6g.medium: db.r6g.medium is smaller than the writer's db.r6g.large" in seen
    assert any(line.startswith("excluded: db.serverless: db.serverless is only for a cluster with a Serverless v2")
               for line in seen)


def test_map_iterations_are_labelled_by_their_item(crunch, restore, scale_down):
    # CheckOrderability's iterations run concurrently: which one starts first varies from run to run.
    crunch_lines = lines(crunch[1])
    assert any(line.endswith("CheckOrderability[db.r6g.large] > CheckClassOrderable") for line in crunch_lines)
    assert any(line.endswith("CheckOrderability[db.r6g.xlarge] > CheckClassOrderable") for line in crunch_lines)
    orderable = [c for c in crunch[0]["aws_calls"] if c["operation"] == "DescribeOrderableDBInstanceOptions"]
    assert sorted(c["iteration"] for c in orderable) == ["CheckOrderability[db.r6g.large]",
                                                         "CheckOrderability[db.r6g.xlarge]"]
    assert all(c["iteration"].endswith(f"[{c['params']['DBInstanceClass']}]") for c in orderable)
    seen = lines(restore[1])
    assert "T+3:32 CreateInstances: Map over 2 items (orders-restored-1, orders-restored-2)" in seen
    assert "T+3:32 CreateInstances[orders-restored-1] > CreateInstance" in seen
    assert "T+3:33 CreateInstances[orders-restored-2] > CreateInstance" in seen
    after_map = seen[seen.index("T+3:33 wait 0:00 (WaitForInstances)"):]
    assert after_map and not any("CreateInstances[" in line for line in after_map)  # back outside the Map
    assert "T+0:00 EvaluateClusters[orders] > EvaluateCluster" in lines(scale_down[1])


def test_scale_down_decisions_show_peak_cpu_against_the_threshold_and_readers_per_az(scale_down):
    report, text = scale_down
    seen = lines(text)
    orders = seen.index("orders deleted / load-low orders-aops-7cbd1beb-2")
    assert seen[orders + 1:orders + 6] == [
        "readers per AZ: us-east-1b 2, us-east-1c 1",
        "peak CPU over the last 5 min vs threshold 10 %:",
        "orders-2 6 % below",
        "orders-aops-7cbd1beb-1 5 % below",
        "orders-aops-7cbd1beb-2 3 % below",
    ]
    billing = seen.index("billing none / load-not-low")
    assert seen[billing + 2:billing + 5] == ["peak CPU over the last 5 min vs threshold 30 %:",
                                             "billing-2 12 % below", "billing-aops-5e0a11c3-1 35 % not below"]
    assert "readers per AZ: us-east-1b 1, us-east-1c 1" in seen  # payments: last-in-az
    deleted = next(d for d in report["output"]["decisions"] if d["cluster_id"] == "orders")
    assert deleted["evidence"]["threshold"] == 10 and deleted["evidence"]["peak_cpu"]["orders-aops-7cbd1beb-2"] == 3
    assert "- instance orders-aops-7cbd1beb-2: db.r6g.large us-east-1b reader (cluster orders)" in seen


def test_a_failure_is_its_error_and_a_readable_cause_and_its_outcome_is_shown(exhausted):
    report, text = exhausted
    seen = lines(text)
    assert len(report["cause"]) > 1000  # the outcome, as JSON
    assert seen[:3] == ["scale-up execution sim-scale-up-001: FAILED", "error: NoCapacityAvailable",
                        "cause: gave up after 3 created readers never became available "
                        "(the outcome below is the cause, in full)"]
    assert max(len(line) for line in text.splitlines()) < 200 and '{"action"' not in text
    assert "Outcome (from the cause): failed (no-capacity)" in seen and "(none)" not in text
    assert "6 db.r6g.xlarge us-east-1b class 2 of 2; 1 reader in us-east-1b capacity-lost (orders-aops-7cbd1beb-6)" \
        in seen
    assert "T+25:41 execution FAILED: NoCapacityAvailable" in seen
    assert "± instance orders-aops-7cbd1beb-4: created and removed during the run" in seen


def test_retries_faults_and_the_duplicate_start(faulty):
    report, text = faulty
    seen = lines(text)
    assert "T+0:00 Prepare failed: AwsThrottled: Throttling: simulated fault: Throttling" in seen
    assert any(re.fullmatch(r"T\+0:0\d retry Prepare after AwsThrottled \(attempt 2\)", line) for line in seen)
    assert any(re.fullmatch(r"T\+0:0\d CreateReader failed: Lambda.ServiceException: simulated fault: "
                            r"service-error invoking CreateReader", line) for line in seen)
    assert any(re.fullmatch(r"T\+0:0\d retry CreateReader after Lambda.ServiceException \(attempt 2\)", line)
               for line in seen)
    assert "stackTrace" not in text and "Status Code" not in text
    duplicate = report["duplicate"]
    assert duplicate["output"]["reason"] == "duplicate-event" and duplicate["timeline"]
    assert "execution sim-scale-up-002: SUCCEEDED" in " ".join(seen)
    start = seen.index("Outcome: none (duplicate-event)")
    assert any(line.startswith("Timeline (the same clock: it started at T+5:") for line in seen[:start])
    assert "+ instance orders-aops-7cbd1beb-1: db.r6g.large us-east-1a reader, available (cluster orders)" in seen


def test_world_changes_and_notifications(restore):
    _, text = restore
    seen = lines(text)
    assert "+ cluster orders-restored: aurora-postgresql 16.4, available" in seen
    assert "+ instance orders-restored-1-2: db.r6g.large us-east-1b writer, available (cluster orders-restored)" in seen
    assert any(line.startswith("+ operation record ") and line.endswith(": succeeded") for line in seen)
    notes = seen.index("Notifications (1):")
    assert seen[notes + 1] == ("aurora-ops snapshot-restore: restored (orders-restored) "
                               "[workflow=snapshot-restore, action=restored]")


def test_colour_only_when_asked(crunch):
    report, text = crunch
    assert ESCAPE not in text
    world = load_world("examples/capacity-crunch.yaml")
    coloured = render(report, world, style=Style(True))
    assert ESCAPE in coloured and re.sub(r"\033\[\d+m", "", coloured) == text


def test_the_history_is_stamped_with_the_simulated_clock():
    """What the timeline rests on (patches._event_timestamp): fails loudly if a moto upgrade moves it."""
    import inspect

    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    from aurora_ops_sim import patches

    assert "self._get_current_timestamp()" in inspect.getsource(EventManager.add_event)
    assert list(inspect.signature(patches._original_event_timestamp).parameters) == []


def test_clock_and_cause_formats():
    assert [clock(0), clock(59.9), clock(906), clock(3900)] == ["T+0:00", "T+0:59", "T+15:06", "T+1:05:00"]
    lambda_error = json.dumps({"errorType": "AwsThrottled", "errorMessage": "Throttling: slow down",
                               "stackTrace": ["  File x"]})
    assert readable_cause(lambda_error) == "Throttling: slow down"
    assert readable_cause("lost (Service: AWSLambda; Status Code: 500; Error Code: X; Request ID: y)") == "lost"
    assert len(readable_cause("x" * 1300)) == 160
