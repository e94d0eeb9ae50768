"""Scale-up's input: the direct (console) form and the EventBridge events that start it."""

import pytest

from aurora_ops.core.errors import InvalidInput
from aurora_ops.workflows.scale_up.decisions import parse_request
from conftest import load_event


def test_direct_form():
    request = parse_request({"cluster_id": "orders", "reason": "load", "dry_run": True})
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
      "detail": {"configuration": {"metrics": "m1"}}}, "input.detail.configuration.metrics"),
])
def test_malformed_input_names_the_field(document, field):
    with pytest.raises(InvalidInput) as raised:
        parse_request(document)
    assert str(raised.value).startswith(field + ":")


@pytest.mark.parametrize("event,expected", [
    ("rds-cluster-event.json", {"cluster_id": "orders", "instance_ids": [], "trigger": "rds-event"}),
    ("rds-instance-event.json", {"cluster_id": None, "instance_ids": ["orders-2"], "trigger": "rds-event"}),
    ("cloudtrail-capacity-failure.json", {"cluster_id": "orders", "instance_ids": [], "trigger": "cloudtrail"}),
    ("alarm-reader-load.json", {"cluster_id": "orders", "instance_ids": [], "trigger": "alarm"}),
])
def test_event_forms_resolve(event, expected):
    document = load_event(event)
    request = parse_request(document)
    assert {k: request[k] for k in expected} == expected
    assert request["event_id"] == document["id"]
