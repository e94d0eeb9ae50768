import pytest

from aurora_ops.errors import InvalidInput, InvalidPolicy
from aurora_ops.policy import ClusterPolicy, parse_policy_document
from aurora_ops.triggers import parse_scale_up_input
from conftest import load_event


def test_policy_defaults_follow_the_contract():
    policy = parse_policy_document({"orders": {}})["orders"]
    assert policy == ClusterPolicy()
    assert (policy.min_readers, policy.max_readers, policy.promotion_tier, policy.strategy) == (1, 15, 15, "instance-priority")
    assert (policy.scale_down.enabled, policy.scale_down.cpu_threshold,
            policy.scale_down.lookback_minutes, policy.scale_down.cooldown_minutes) == (True, 10, 5, 15)


@pytest.mark.parametrize("document,field", [
    ({"orders": {"max_readers": "5"}}, "policy.orders.max_readers"),
    ({"orders": {"strategy": "random"}}, "policy.orders.strategy"),
    ({"orders": {"instance_classes": ["r6g.large"]}}, "policy.orders.instance_classes[0]"),
    ({"orders": {"scale_down": {"cpu_threshold": 101}}}, "policy.orders.scale_down.cpu_threshold"),
    ({"orders": {"min_readers": 3, "max_readers": 2}}, "policy.orders.min_readers"),
    ({"orders": {"colour": "blue"}}, "policy.orders"),
])
def test_bad_policies_name_the_field(document, field):
    with pytest.raises(InvalidPolicy, match=f"^{field.replace('[', '\\[').replace(']', '\\]')}"):
        parse_policy_document(document)


def test_direct_form():
    request = parse_scale_up_input({"cluster_id": "orders", "reason": "load", "dry_run": True})
    assert (request["cluster_id"], request["reason"], request["dry_run"], request["event_id"]) == ("orders", "load", True, None)


@pytest.mark.parametrize("document,field", [
    ({"cluster_id": "orders", "dry_run": "yes"}, "input.dry_run"),
    ({"cluster": "orders"}, "input"),
    ({"cluster_id": 7}, "input.cluster_id"),
    ({"cluster_id": "-bad"}, "input.cluster_id"),
    ([], "input"),
    ("orders", "input"),
    ({"id": "1", "source": "aws.rds", "detail-type": "RDS DB Cluster Event", "detail": {}}, "input.detail.SourceIdentifier"),
    ({"id": "1", "source": "aws.ec2", "detail-type": "RDS DB Cluster Event", "detail": {}}, "input.source"),
    ({"id": "1", "source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
      "detail": {"configuration": {"metrics": []}}}, "input.detail.configuration.metrics"),
])
def test_malformed_input_names_the_field(document, field):
    with pytest.raises(InvalidInput) as raised:
        parse_scale_up_input(document)
    assert str(raised.value).startswith(field + ":")


@pytest.mark.parametrize("event,expected", [
    ("rds-cluster-event.json", {"cluster_id": "orders", "instance_id": None, "trigger": "rds-event"}),
    ("rds-instance-event.json", {"cluster_id": None, "instance_id": "orders-2", "trigger": "rds-event"}),
    ("cloudtrail-capacity-failure.json", {"cluster_id": "orders", "instance_id": None, "trigger": "cloudtrail"}),
    ("alarm-reader-load.json", {"cluster_id": "orders", "instance_id": None, "trigger": "alarm"}),
])
def test_event_forms_resolve(event, expected):
    document = load_event(event)
    request = parse_scale_up_input(document)
    assert {k: request[k] for k in expected} == expected
    assert request["event_id"] == document["id"]
