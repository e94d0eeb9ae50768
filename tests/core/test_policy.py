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
