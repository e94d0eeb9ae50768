import pytest

from aurora_ops.core.errors import InvalidPolicy
from aurora_ops.core.policy import ClusterPolicy, parse_policy_document


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


@pytest.mark.parametrize("instance_class,field", [
    ("db.r6g.xlarg", "policy.orders.instance_classes[1]: db.r6g.xlarg has no known instance size"),
    ("db.r6g.xxlarge", "policy.orders.instance_classes[1]: db.r6g.xxlarge has no known instance size"),
    ("db.r6g.2xlarge-ish", "policy.orders.instance_classes[1]"),  # not a class name at all
    ("db.large", "policy.orders.instance_classes[1]"),  # no family
    ("db.R6G.large", "policy.orders.instance_classes[1]"),
])
def test_an_unknown_class_or_size_is_rejected_by_policy_validation_not_mid_run(instance_class, field):
    with pytest.raises(InvalidPolicy, match=f"^{field.replace('[', '\\[').replace(']', '\\]')}"):
        parse_policy_document({"orders": {"instance_classes": ["db.r6g.large", instance_class]}})


def test_cluster_keys_are_compared_in_lowercase_as_rds_stores_identifiers():
    assert set(parse_policy_document({"Orders": {}})) == {"orders"}
    with pytest.raises(InvalidPolicy, match="^policy.ORDERS: names the same cluster as another key"):
        parse_policy_document({"orders": {}, "ORDERS": {}})


# v2: named policies ----------------------------------------------------------------------------
from aurora_ops.core.policy import iam_list_mismatches, parse_document  # noqa: E402

SPEC_EXAMPLE = {
    "defaults": {"promotion_tier": 15, "scale_down": {"cpu_threshold": 20}},
    "policies": {"oltp": {"max_readers": 6, "instance_classes": ["db.r6g.xlarge", "db.r7g.xlarge"]},
                 "analytics": {"max_readers": 10, "strategy": "az-priority", "scale_down": {"lookback_minutes": 10}}},
    "clusters": {"orders": "oltp", "billing": {"max_readers": 3}},
}


def test_v2_resolves_field_by_field_entry_then_defaults_then_built_in():
    document = parse_document(SPEC_EXAMPLE)
    orders, billing = document.clusters["orders"], document.clusters["billing"]
    assert (orders.max_readers, orders.instance_classes, orders.promotion_tier) == (6, ("db.r6g.xlarge", "db.r7g.xlarge"), 15)
    assert (billing.max_readers, billing.instance_classes, billing.min_readers) == (3, None, 1)
    assert billing.scale_down.cpu_threshold == 20 and billing.scale_down.lookback_minutes == 5  # nested, field by field
    analytics, _ = document.resolve("reports", {"aurora-ops:policy": "analytics"})
    assert (analytics.strategy, analytics.scale_down.cpu_threshold, analytics.scale_down.lookback_minutes) == (
        "az-priority", 20, 10)


def test_v2_selection_an_entry_wins_over_the_tag_and_an_unknown_tag_is_named():
    document = parse_document(SPEC_EXAMPLE)
    assert document.resolve("orders", {"aurora-ops:policy": "analytics"})[0].max_readers == 6
    assert document.resolve("reports", {"aurora-ops:policy": "nope"}) == (None, "unknown-policy")
    assert document.resolve("reports", {}) == (None, "not-managed")
    assert parse_document({"orders": {}}).resolve("x", {"aurora-ops:policy": "a"}) == (None, "not-managed")  # v1


@pytest.mark.parametrize("document,message", [
    ({"clusters": {"orders": "oltpp"}, "policies": {"oltp": {}}}, "policy.clusters.orders: names no policy 'oltpp'"),
    ({"policies": {"oltp": {"max_readers": "6"}}}, "policy.policies.oltp.max_readers"),
    ({"defaults": {"colour": 1}, "clusters": {}}, "policy.defaults"),
    ({"clusters": {"orders": {"instance_classes": ["db.r6g.xlarg"]}}}, "policy.clusters.orders.instance_classes[0]"),
    ({"clusters": {}, "extra": 1}, "policy"),
])
def test_v2_errors_name_the_field(document, message):
    with pytest.raises(InvalidPolicy) as raised:
        parse_document(document)
    assert str(raised.value).startswith(message), str(raised.value)


def test_serverless_and_the_v2_fields_are_accepted():
    document = parse_document({"clusters": {"orders": {
        "instance_classes": ["db.serverless", "db.r6g.large"], "failover": {"allowed": ["drill"]},
        "restore_drill": {"enabled": True, "checks": [{"sql": "SELECT 1", "expect": {"min": 1}}]},
        "dr": {"rpo_target_seconds": 10}}}, "dsql_clusters": [{"id": "abc123", "region": "us-east-1"}]})
    orders = document.clusters["orders"]
    assert orders.instance_classes[0] == "db.serverless" and orders.failover.allowed == ("drill",)
    assert orders.restore_drill.enabled and orders.dr.rpo_target_seconds == 10 and len(document.dsql_clusters) == 1


def test_iam_list_mismatches_both_ways_with_wildcards():
    document = parse_document(SPEC_EXAMPLE)
    assert iam_list_mismatches(document, ["orders", "billing"]) == []
    assert iam_list_mismatches(document, ["fleet-*", "orders", "billing"]) == [
        "ManagedClusterIds: fleet-* matches no cluster the policy document names"]
    assert iam_list_mismatches(document, ["orders"]) == [
        "policy.clusters.billing: not in ManagedClusterIds (IAM would deny its readers)"]
    assert iam_list_mismatches(parse_document({"policies": {"a": {}}}), [""]) == []  # tags only: no list
