"""Every EventBridge event in events/ replayed twice: through template.yaml's rules
(moto's EventBridge pattern matcher, the stack's parameters at their defaults),
and through scale-up in the simulator. docs/triggers.md is the table this checks."""

import copy
import json
from pathlib import Path

import pytest
from moto.events.models import EventPattern

from aurora_ops_sim import simulate
from aurora_ops_sim.template import Template
from conftest import BASE_WORLD, calls, load_event

ROOT = Path(__file__).resolve().parents[2]
RULES = ("RdsEventRule", "CapacityFailureRule", "ReaderLoadAlarmRule")
# The alarm rule exists only with ReaderLoadAlarmNames; these are the alarms of the fixtures.
ALARM_NAMES = ["orders-reader-cpu-high", "orders-2-cpu-high", "orders-readers-max-cpu-high",
               "reader-connections-high", "readers-cpu-insights-high", "orders-service-degraded"]
CREATED = ("created", None)  # a reader added to orders; the outcome's reason is the event's

# file -> (the rules that match it, scale-up's outcome (action, reason) when that rule
# starts it; None: no rule starts it, and what it is about implies no scale-up).
EXPECTED = {
    "rds-instance-event.json": ({"RdsEventRule"}, CREATED),
    "rds-instance-event-autoscaling-gone.json": ({"RdsEventRule"}, CREATED),
    "rds-instance-event-own-reader.json": ({"RdsEventRule"}, ("none", "own-request")),
    "rds-instance-event-not-default.json": (set(), None),
    "rds-cluster-event.json": (set(), None),
    "cloudtrail-capacity-failure.json": ({"CapacityFailureRule"}, CREATED),
    "cloudtrail-capacity-failure-mixed-case.json": ({"CapacityFailureRule"}, CREATED),
    "cloudtrail-capacity-failure-not-aurora.json": (set(), ("none", "no-cluster-in-request")),
    "alarm-reader-load.json": ({"ReaderLoadAlarmRule"}, CREATED),
    "alarm-reader-load-ok.json": (set(), ("none", "alarm-not-in-alarm")),
    "alarm-instance-metric.json": ({"ReaderLoadAlarmRule"}, CREATED),
    "alarm-metric-math.json": ({"ReaderLoadAlarmRule"}, CREATED),
    "alarm-metric-math-two-clusters.json": ({"ReaderLoadAlarmRule"}, ("none", "ambiguous-cluster")),
    "alarm-metrics-insights.json": ({"ReaderLoadAlarmRule"}, ("none", "no-cluster-in-alarm")),
    "alarm-composite.json": ({"ReaderLoadAlarmRule"}, ("none", "no-cluster-in-alarm")),
}


def eventbridge_fixtures() -> list[str]:
    names = sorted(p.name for p in (ROOT / "events").glob("*.json"))
    return [n for n in names if "detail-type" in json.loads((ROOT / "events" / n).read_text())]


def resolve(node, parameters: dict):
    """A rule's EventPattern with each !Ref to a parameter replaced by its value."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return parameters[node["Ref"]]
        assert not any(k.startswith("Fn::") for k in node), f"unresolved intrinsic in a pattern: {node}"
        return {k: resolve(v, parameters) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, parameters) for v in node]
    return node


def patterns(overrides: dict | None = None) -> dict[str, EventPattern]:
    doc = Template(ROOT).doc
    parameters = {}
    for name, spec in doc["Parameters"].items():
        value = (overrides or {}).get(name, spec.get("Default"))
        if spec["Type"] == "CommaDelimitedList" and isinstance(value, str):
            value = value.split(",") if value else []
        parameters[name] = value
    return {rule: EventPattern.load(json.dumps(resolve(doc["Resources"][rule]["Properties"]["EventPattern"],
                                                       parameters)))
            for rule in RULES}


DEFAULT_PATTERNS = patterns({"ReaderLoadAlarmNames": ",".join(ALARM_NAMES)})


def matching(event: dict, rules: dict[str, EventPattern]) -> set[str]:
    return {rule for rule, pattern in rules.items() if pattern.matches_event(event)}


def test_every_eventbridge_fixture_is_in_the_table_and_in_the_docs():
    assert sorted(EXPECTED) == eventbridge_fixtures()
    documented = (ROOT / "docs" / "triggers.md").read_text()
    assert [name for name in EXPECTED if f"`{name}`" not in documented] == []


def test_the_template_rules_are_the_ones_replayed():
    doc = Template(ROOT).doc
    assert sorted(r for r, res in doc["Resources"].items() if res["Type"] == "AWS::Events::Rule") == sorted(RULES)
    assert doc["Parameters"]["RdsEventIds"]["Default"] == "RDS-EVENT-0353"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_matches_exactly_its_rules(name):
    assert matching(load_event(name), DEFAULT_PATTERNS) == EXPECTED[name][0]


def test_an_event_id_added_to_rds_event_ids_is_matched():
    extended = patterns({"RdsEventIds": "RDS-EVENT-0353,RDS-EVENT-0355",
                         "ReaderLoadAlarmNames": ",".join(ALARM_NAMES)})
    assert matching(load_event("rds-cluster-event.json"), extended) == {"RdsEventRule"}
    assert matching(load_event("rds-instance-event-not-default.json"), extended) == set()


def test_an_alarm_not_in_the_names_matches_no_rule():
    event = load_event("alarm-reader-load.json")
    event["detail"]["alarmName"] = "someone-elses-alarm"
    assert matching(event, DEFAULT_PATTERNS) == set()


def world():
    """orders (writer orders-1, readers orders-2 and orders-3) is managed; no instance
    of Aurora Auto Scaling's is left, and billing is not in this account. One policy
    class: this replays which cluster an event resolves to, not the plan (faster)."""
    built = copy.deepcopy(BASE_WORLD)
    built["clusters"][0]["instances"].append({"id": "orders-3", "class": "db.r6g.large", "az": "us-east-1c"})
    built["policies"]["orders"]["instance_classes"] = ["db.r6g.large"]
    return built


@pytest.mark.parametrize("name", sorted(n for n, (_, outcome) in EXPECTED.items() if outcome))
def test_each_fixture_ends_as_its_meaning_implies(name):
    action, reason = EXPECTED[name][1]
    event = load_event(name)
    report = simulate("scale-up", world(), event, echo_handler_output=False)
    assert report["status"] == "SUCCEEDED", report["cause"]
    output = report["output"]
    if action == "created":
        assert (output["action"], output["cluster_id"]) == ("created", "orders")
        assert [c["params"]["DBClusterIdentifier"] for c in calls(report, "CreateDBInstance")] == ["orders"]
    else:  # each of these is decided from the event alone: not a single AWS call
        assert (output["action"], output["reason"]) == (action, reason)
        assert report["aws_calls"] == []
