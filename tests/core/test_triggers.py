"""What an EventBridge event is about (core/triggers.py), without AWS: identifiers as
RDS stores them, the cluster an alarm or an event's tags name, and the events no
one acts on (a named reason, never an error)."""

import copy

import pytest

from aurora_ops.core.errors import InvalidInput
from aurora_ops.core.triggers import (
    cluster_from_tags,
    normalize_identifier,
    request_from_event,
    resolve_cluster,
)
from conftest import load_event


def request(name, change=None):
    event = load_event(name)
    if change:
        change(event)
    return request_from_event(event)


@pytest.mark.parametrize("raw,expected", [
    ("orders", "orders"), ("rds:orders", "orders"), ("Orders", "orders"), ("RDS:Orders-2", "orders-2"),
    ("rds:", ""), (7, None), (None, None),
])
def test_identifiers_are_lowercase_without_the_rds_prefix(raw, expected):
    assert normalize_identifier(raw) == expected


# RDS events -------------------------------------------------------------------------------
def test_a_cluster_event_names_its_cluster_even_with_the_rds_prefix():
    assert request("rds-cluster-event.json")["cluster_id"] == "orders"
    mixed = request("rds-cluster-event.json", lambda e: e["detail"].update(SourceIdentifier="rds:Orders"))
    assert mixed["cluster_id"] == "orders"


def test_an_instance_event_names_its_instance_and_the_cluster_its_tags_name():
    plain = request("rds-instance-event.json")
    assert (plain["cluster_id"], plain["instance_ids"], plain["cluster_hint"]) == (None, ["orders-2"], None)
    autoscaling = request("rds-instance-event-autoscaling-gone.json")
    assert autoscaling["instance_ids"] == ["application-autoscaling-7d2f5b1e-93c4-4a6e-b8d0-1f6e2c9a4b57"]
    assert (autoscaling["cluster_hint"], autoscaling["ignore"]) == ("orders", None)


@pytest.mark.parametrize("tags,expected", [
    ({"application-autoscaling:resourceId": "cluster:orders"}, "orders"),
    ({"application-autoscaling:resourceId": "cluster:Orders"}, "orders"),
    ({"application-autoscaling:resourceId": "table:orders"}, None),
    ({"application-autoscaling:resourceId": 7}, None),
    ({"team": "orders"}, None),
    ({}, None),
])
def test_the_cluster_named_by_aurora_auto_scaling_tags(tags, expected):
    assert cluster_from_tags(tags) == expected


def test_tags_that_are_not_a_map_name_nothing():
    listed = request("rds-instance-event-autoscaling-gone.json", lambda e: e["detail"].update(
        Tags=[{"Key": "application-autoscaling:resourceId", "Value": "cluster:orders"}]))
    assert (listed["cluster_hint"], listed["ignore"]) == (None, None)


def test_an_event_about_a_reader_of_this_system_is_its_own_request_by_name_or_by_tag():
    assert request("rds-instance-event-own-reader.json")["ignore"] == "own-request"
    by_tag = request("rds-instance-event-own-reader.json",
                     lambda e: e["detail"].update(SourceIdentifier="rds:renamed-reader"))
    assert by_tag["ignore"] == "own-request"
    by_name = request("rds-instance-event.json",
                      lambda e: e["detail"].update(SourceIdentifier="rds:Orders-AOPS-0123ABCD-2"))
    assert by_name["ignore"] == "own-request"


# CloudTrail -------------------------------------------------------------------------------
def test_a_failed_create_names_its_cluster_in_any_case():
    assert request("cloudtrail-capacity-failure.json")["cluster_id"] == "orders"
    mixed = request("cloudtrail-capacity-failure-mixed-case.json")
    assert (mixed["cluster_id"], mixed["ignore"], mixed["trigger"]) == ("orders", None, "cloudtrail")
    assert mixed["reason"] == "CreateDBInstance: InsufficientDBInstanceCapacity"


def test_a_failed_create_outside_any_cluster_is_no_one_s_to_act_on():
    outside = request("cloudtrail-capacity-failure-not-aurora.json")
    assert (outside["cluster_id"], outside["ignore"]) == (None, "no-cluster-in-request")


def test_a_failed_create_of_this_system_is_its_own_request_in_any_case():
    def ours(event):
        event["detail"]["requestParameters"]["dBInstanceIdentifier"] = "Orders-AOPS-0123ABCD-1"
    assert request("cloudtrail-capacity-failure-mixed-case.json", ours)["ignore"] == "own-request"

    def tagged(event):
        event["detail"]["requestParameters"]["tags"] = [{"key": "aurora-ops:created-by", "value": "x"}]
    assert request("cloudtrail-capacity-failure.json", tagged)["ignore"] == "own-request"


# CloudWatch alarms ------------------------------------------------------------------------
@pytest.mark.parametrize("name,expected", [
    ("alarm-reader-load.json", ("orders", [], None)),
    ("alarm-instance-metric.json", (None, ["orders-2"], None)),
    ("alarm-metric-math.json", (None, ["orders-2", "orders-3"], None)),
    ("alarm-metric-math-two-clusters.json", (None, [], "ambiguous-cluster")),
    ("alarm-metrics-insights.json", (None, [], "no-cluster-in-alarm")),
    ("alarm-composite.json", (None, [], "no-cluster-in-alarm")),
    ("alarm-reader-load-ok.json", ("orders", [], "alarm-not-in-alarm")),
])
def test_the_cluster_or_instances_an_alarm_names(name, expected):
    got = request(name)
    assert (got["cluster_id"], got["instance_ids"], got["ignore"]) == expected
    assert got["trigger"] == "alarm"


def test_an_alarm_naming_one_cluster_in_several_metrics_and_spellings_names_it_once():
    def twice(event):
        metric = event["detail"]["configuration"]["metrics"][0]
        again = copy.deepcopy(metric)
        again["id"] = "m2"
        again["metricStat"]["metric"]["dimensions"]["DBClusterIdentifier"] = "Orders"
        event["detail"]["configuration"]["metrics"].append(again)
    got = request("alarm-reader-load.json", twice)
    assert (got["cluster_id"], got["ignore"]) == ("orders", None)


def test_an_alarm_without_metrics_names_no_cluster():
    got = request("alarm-reader-load.json", lambda e: e["detail"]["configuration"].update(metrics=[]))
    assert (got["cluster_id"], got["ignore"]) == (None, "no-cluster-in-alarm")


@pytest.mark.parametrize("change,field", [
    (lambda d: d["configuration"].update(metrics="m1"), "input.detail.configuration.metrics"),
    (lambda d: d["configuration"]["metrics"].append("m2"), "input.detail.configuration.metrics[1]"),
    (lambda d: d["configuration"]["metrics"][0]["metricStat"]["metric"].update(dimensions=["orders"]),
     "input.detail.configuration.metrics[0].metricStat.metric.dimensions"),
    (lambda d: d["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"].update(DBClusterIdentifier=""),
     "input.detail.configuration.metrics[0].metricStat.metric.dimensions.DBClusterIdentifier"),
    (lambda d: d.update(configuration="orders"), "input.detail.configuration"),
    (lambda d: d.update(state="ALARM"), "input.detail.state"),
])
def test_a_malformed_alarm_is_invalid_input_naming_the_field(change, field):
    with pytest.raises(InvalidInput) as raised:
        request("alarm-reader-load.json", lambda e: change(e["detail"]))
    assert str(raised.value).startswith(field + ":")


# resolving the one cluster -----------------------------------------------------------------
@pytest.mark.parametrize("named,instance_clusters,hint,expected", [
    ("orders", [], None, ("orders", None)),
    (None, ["orders"], None, ("orders", None)),
    (None, ["orders", "orders"], None, ("orders", None)),
    ("orders", ["orders"], "billing", ("orders", None)),  # the tags are a fallback only
    (None, [None], "orders", ("orders", None)),  # the instance is gone: its tags name the cluster
    (None, [None], None, (None, None)),  # nothing names a cluster: not managed
    (None, ["orders", "billing"], None, (None, "ambiguous-cluster")),
    ("billing", ["orders"], None, (None, "ambiguous-cluster")),
    (None, ["orders", None], None, ("orders", None)),
])
def test_the_one_cluster_a_request_is_about(named, instance_clusters, hint, expected):
    assert resolve_cluster(named, instance_clusters, hint) == expected
