import pytest

from aurora_ops.core.instances import serving_readers, size_rank
from aurora_ops.core.naming import reader_identifier
from aurora_ops.workflows.scale_up.decisions import excluded_classes, plan_candidates
from aurora_ops.core.policy import ClusterPolicy

AZS = ["us-east-1a", "us-east-1b", "us-east-1c"]


def reader(az, status="available"):
    return {"availability_zone": az, "status": status, "writer": False}


def pairs(candidates):
    return [(c["instance_class"], c["availability_zone"]) for c in candidates]


@pytest.mark.parametrize("smaller,larger", [
    ("db.r6g.medium", "db.r6g.large"), ("db.r6g.large", "db.r6g.xlarge"),
    ("db.r6g.xlarge", "db.r6g.2xlarge"), ("db.r6g.2xlarge", "db.r6g.12xlarge"), ("db.t4g.small", "db.t4g.medium"),
])
def test_size_rank_orders_size_tokens(smaller, larger):
    assert size_rank(smaller) < size_rank(larger)


def test_size_rank_rejects_unknown_tokens():
    with pytest.raises(ValueError):
        size_rank("db.r6g.huge")


def test_instance_priority_tries_every_az_for_a_class_before_the_next_class():
    policy = ClusterPolicy(instance_classes=("db.r6g.large", "db.r6g.xlarge"))
    assert pairs(plan_candidates(policy, "db.r6g.large", AZS, [])) == [
        ("db.r6g.large", "us-east-1a"), ("db.r6g.large", "us-east-1b"), ("db.r6g.large", "us-east-1c"),
        ("db.r6g.xlarge", "us-east-1a"), ("db.r6g.xlarge", "us-east-1b"), ("db.r6g.xlarge", "us-east-1c"),
    ]


def test_az_priority_tries_every_class_in_an_az_before_the_next_az():
    policy = ClusterPolicy(instance_classes=("db.r6g.large", "db.r6g.xlarge"), strategy="az-priority")
    assert pairs(plan_candidates(policy, "db.r6g.large", AZS[:2], [])) == [
        ("db.r6g.large", "us-east-1a"), ("db.r6g.xlarge", "us-east-1a"),
        ("db.r6g.large", "us-east-1b"), ("db.r6g.xlarge", "us-east-1b"),
    ]


def test_azs_with_fewest_readers_come_first_and_ties_keep_policy_order():
    policy = ClusterPolicy(availability_zones=("us-east-1c", "us-east-1a", "us-east-1b"))
    readers = [reader("us-east-1c"), reader("us-east-1c"), reader("us-east-1a", status="creating")]
    assert [c["availability_zone"] for c in plan_candidates(policy, "db.r6g.large", AZS, readers)] == [
        "us-east-1b", "us-east-1a", "us-east-1c"]


def test_only_azs_of_the_subnet_group_are_used():
    policy = ClusterPolicy(availability_zones=("us-east-1d", "us-east-1b"))
    assert pairs(plan_candidates(policy, "db.r6g.large", AZS, [])) == [("db.r6g.large", "us-east-1b")]


def test_classes_smaller_than_the_writer_are_dropped_unless_allowed():
    classes = ("db.r6g.large", "db.r6g.xlarge", "db.r6g.2xlarge")
    strict = ClusterPolicy(instance_classes=classes)
    assert {c for c, _ in pairs(plan_candidates(strict, "db.r6g.xlarge", AZS, []))} == {"db.r6g.xlarge", "db.r6g.2xlarge"}
    relaxed = ClusterPolicy(instance_classes=classes, allow_smaller_than_writer=True)
    assert {c for c, _ in pairs(plan_candidates(relaxed, "db.r6g.xlarge", AZS, []))} == set(classes)


def test_default_class_is_the_writers():
    assert {c for c, _ in pairs(plan_candidates(ClusterPolicy(), "db.r7g.2xlarge", AZS, []))} == {"db.r7g.2xlarge"}


SERVERLESS_FIRST = ("db.serverless", "db.r6g.2xlarge")


def classes_of(candidates):
    return list(dict.fromkeys(c for c, _ in pairs(candidates)))


@pytest.mark.parametrize("max_acu", [16, 64])  # 32 GiB, 128 GiB against the writer's 32 GiB
def test_a_serverless_candidate_is_kept_when_its_max_acu_memory_reaches_the_writers(max_acu):
    policy = ClusterPolicy(instance_classes=SERVERLESS_FIRST)
    assert classes_of(plan_candidates(policy, "db.r6g.xlarge", AZS, [], max_acu=max_acu)) == list(SERVERLESS_FIRST)
    assert excluded_classes(policy, "db.r6g.xlarge", max_acu=max_acu) == {}


def test_a_serverless_candidate_below_the_writers_memory_is_dropped_unless_smaller_is_allowed():
    strict = ClusterPolicy(instance_classes=SERVERLESS_FIRST)
    assert classes_of(plan_candidates(strict, "db.r6g.xlarge", AZS, [], max_acu=15.5)) == ["db.r6g.2xlarge"]
    assert excluded_classes(strict, "db.r6g.xlarge", max_acu=15.5) == {"db.serverless": (
        "db.serverless (31 GiB, max_acu 15.5) is smaller than the writer's db.r6g.xlarge (32 GiB)")}
    relaxed = ClusterPolicy(instance_classes=SERVERLESS_FIRST, allow_smaller_than_writer=True)
    assert classes_of(plan_candidates(relaxed, "db.r6g.xlarge", AZS, [], max_acu=1)) == list(SERVERLESS_FIRST)


@pytest.mark.parametrize("allow_smaller", [False, True])
def test_a_serverless_candidate_is_dropped_for_a_cluster_without_serverless_v2(allow_smaller):
    policy = ClusterPolicy(instance_classes=SERVERLESS_FIRST, allow_smaller_than_writer=allow_smaller)
    assert classes_of(plan_candidates(policy, "db.r6g.large", AZS, [])) == ["db.r6g.2xlarge"]
    why = excluded_classes(policy, "db.r6g.large")["db.serverless"]
    assert "Serverless v2 scaling configuration" in why


def test_a_serverless_candidate_is_dropped_when_the_writers_memory_is_not_known():
    policy = ClusterPolicy(instance_classes=("db.serverless",))
    assert plan_candidates(policy, "db.r4.2xlarge", AZS, [], max_acu=128) == []
    assert "db.r4.2xlarge is not known" in excluded_classes(policy, "db.r4.2xlarge", max_acu=128)["db.serverless"]


def test_behind_a_serverless_writer_provisioned_classes_compare_by_memory():
    policy = ClusterPolicy(instance_classes=("db.r6g.large", "db.r6g.xlarge", "db.serverless"))
    assert classes_of(plan_candidates(policy, "db.serverless", AZS, [], max_acu=16)) == [
        "db.r6g.xlarge", "db.serverless"]
    assert classes_of(plan_candidates(ClusterPolicy(), "db.serverless", AZS, [], max_acu=16)) == ["db.serverless"]


def test_provisioned_classes_smaller_than_the_writer_are_named_in_the_exclusions():
    policy = ClusterPolicy(instance_classes=("db.r6g.large", "db.r6g.xlarge"))
    assert excluded_classes(policy, "db.r6g.xlarge") == {
        "db.r6g.large": "db.r6g.large is smaller than the writer's db.r6g.xlarge"}


def test_serving_readers_ignore_the_writer_and_failed_or_deleting_instances():
    instances = [
        {"writer": True, "status": "available"},
        {"writer": False, "status": "available"},
        {"writer": False, "status": "creating"},
        {"writer": False, "status": "deleting"},
        {"writer": False, "status": "insufficient-capacity"},
    ]
    assert serving_readers(instances) == instances[1:3]


def test_reader_identifier_is_deterministic_valid_and_bounded():
    first = reader_identifier("orders", "exec-1", 1)
    assert first == reader_identifier("orders", "exec-1", 1)
    assert first != reader_identifier("orders", "exec-2", 1) != reader_identifier("orders", "exec-1", 2)
    long = reader_identifier("a" * 63, "exec-1", 12)
    assert len(long) <= 63 and long[0].isalpha() and "--" not in long
    trimmed = reader_identifier("a" * 44 + "-b" * 9, "exec-1", 3)
    assert len(trimmed) <= 63 and "--" not in trimmed


def test_monitoring_is_kept_only_with_a_role_the_stack_may_pass():
    from aurora_ops.workflows.scale_up.decisions import without_unlisted_monitoring

    listed = {"monitoring_interval": 60, "monitoring_role_arn": "arn:aws:iam::1:role/rds-monitoring-role"}
    assert without_unlisted_monitoring(listed, {"rds-monitoring-role"}) == (listed, None)
    pathed = {"monitoring_interval": 60, "monitoring_role_arn": "arn:aws:iam::1:role/ops/rds-monitoring-role"}
    settings, warning = without_unlisted_monitoring(pathed, {"rds-monitoring-role"})  # IAM grants role/<name>, path /
    assert settings["monitoring_interval"] == 0 and settings["monitoring_role_arn"] is None and "ops/" in warning
    off = {"monitoring_interval": 0, "monitoring_role_arn": None}
    assert without_unlisted_monitoring(off, set()) == (off, None)
