"""Instance class memory and the one size comparison (pure): size_rank between
provisioned classes, memory when db.serverless is either side."""

import pytest

from aurora_ops.core.instances import SERVERLESS_CLASS, at_least, memory_gib, size_rank


@pytest.mark.parametrize("instance_class,gib", [
    ("db.r5.large", 16), ("db.r5.24xlarge", 768),
    ("db.r6g.large", 16), ("db.r6g.xlarge", 32), ("db.r6g.16xlarge", 512),
    ("db.r6gd.xlarge", 32), ("db.r6i.32xlarge", 1024), ("db.r6id.2xlarge", 64),
    ("db.r7g.4xlarge", 128), ("db.r7i.48xlarge", 1536), ("db.r8g.large", 16),
    ("db.x2g.large", 32), ("db.x2g.xlarge", 64), ("db.x2g.16xlarge", 1024),
    ("db.x2iedn.xlarge", 128), ("db.x2iedn.32xlarge", 4096),
    ("db.t3.medium", 4), ("db.t3.large", 8), ("db.t4g.medium", 4), ("db.t4g.large", 8),
])
def test_memory_of_the_classes_in_the_table(instance_class, gib):
    assert memory_gib(instance_class) == gib


def test_a_serverless_instance_has_its_max_acu_times_two_gib():
    assert memory_gib(SERVERLESS_CLASS, max_acu=16) == 32
    assert memory_gib(SERVERLESS_CLASS, max_acu=40.5) == 81


@pytest.mark.parametrize("instance_class,max_acu", [
    (SERVERLESS_CLASS, None),  # a cluster without a Serverless v2 configuration
    ("db.r4.large", None), ("db.m5.large", None), ("db.r6g.metal", None),  # not in the table
    ("db.x2iedn.large", None), ("db.t3.xlarge", None), ("db.r6g.0xlarge", None), ("db.r6g.1xlarge", None),
])
def test_memory_not_known_is_a_value_error(instance_class, max_acu):
    with pytest.raises(ValueError, match="not known"):
        memory_gib(instance_class, max_acu)


@pytest.mark.parametrize("instance_class,other", [
    ("db.r6g.large", "db.r6g.large"), ("db.r6g.xlarge", "db.r6g.large"), ("db.r7g.2xlarge", "db.r6g.xlarge"),
    ("db.r6g.large", "db.t3.medium"), ("db.r4.large", "db.r4.large"),  # r4: outside the memory table
    ("db.r6g.large", "db.x2g.large"),  # size_rank, not memory: existing behaviour
    ("db.m5.metal", "db.r6g.16xlarge"),
])
def test_provisioned_classes_compare_by_size_rank_as_before(instance_class, other):
    assert at_least(instance_class, other) is (size_rank(instance_class) >= size_rank(other)) is True
    assert at_least(instance_class, other, max_acu=1) is True  # max_acu plays no part
    assert at_least(other, instance_class) is (size_rank(other) >= size_rank(instance_class))


@pytest.mark.parametrize("max_acu,writer,expected", [
    (16, "db.r6g.xlarge", True),      # 32 GiB >= 32 GiB
    (15.5, "db.r6g.xlarge", False),   # 31 GiB
    (8, "db.r6g.large", True),
    (64, "db.x2g.xlarge", True),      # 128 >= 64
    (64, "db.r6g.8xlarge", False),    # 128 < 256
    (2, "db.t4g.medium", True),
])
def test_a_serverless_instance_compares_by_max_acu_memory(max_acu, writer, expected):
    assert at_least(SERVERLESS_CLASS, writer, max_acu) is expected


@pytest.mark.parametrize("max_acu,reader,expected", [
    (16, "db.r6g.xlarge", True),      # 32 GiB reader against a 32 GiB serverless writer
    (16, "db.r6g.large", False),
    (256, "db.r6g.16xlarge", True),   # 512 >= 512
    (256, "db.r7g.8xlarge", False),
])
def test_a_provisioned_instance_against_a_serverless_one(max_acu, reader, expected):
    assert at_least(reader, SERVERLESS_CLASS, max_acu) is expected


def test_two_serverless_instances_of_one_cluster_are_the_same_size():
    assert at_least(SERVERLESS_CLASS, SERVERLESS_CLASS, 4) is True


@pytest.mark.parametrize("instance_class,other,max_acu", [
    (SERVERLESS_CLASS, "db.r6g.large", None),
    ("db.r6g.large", SERVERLESS_CLASS, None),
    (SERVERLESS_CLASS, "db.r4.large", 16),
    ("db.m5.large", SERVERLESS_CLASS, 16),
])
def test_a_comparison_with_memory_not_known_is_a_value_error(instance_class, other, max_acu):
    with pytest.raises(ValueError, match="not known"):
        at_least(instance_class, other, max_acu)
