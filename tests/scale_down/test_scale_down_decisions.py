from datetime import timedelta

from aurora_ops.core import clock
from aurora_ops.core.tags import CREATED_BY_TAG
from aurora_ops.workflows.scale_down.decisions import choose_reader_to_remove, in_cooldown, load_verdict

NOW = clock.parse("2026-11-24T12:00:00Z")


def instance(instance_id, az, *, writer=False, ours=True, cls="db.r6g.large", status="available", created="2026-11-24T09:00:00Z"):
    return {"instance_id": instance_id, "availability_zone": az, "writer": writer, "instance_class": cls,
            "status": status, "created": created, "tags": {CREATED_BY_TAG: "x"} if ours else {}}


def test_load_is_low_only_when_every_datapoint_of_every_reader_is_below():
    assert load_verdict({"a": [1, 2, 3], "b": [4, 5, 6]}, 3, 10) is None
    assert load_verdict({"a": [1, 2, 10], "b": [4, 5, 6]}, 3, 10) == "load-not-low"  # at the threshold
    assert load_verdict({"a": [1, 2], "b": [4, 5, 6]}, 3, 10) == "insufficient-data"
    assert load_verdict({}, 3, 10) == "insufficient-data"


def test_cooldown_counts_our_creations_and_removals():
    fresh = [instance("w", "a", writer=True, ours=False), instance("r", "b", created="2026-11-24T11:50:00Z")]
    assert in_cooldown(fresh, None, NOW, 15)
    assert not in_cooldown(fresh, None, NOW, 5)
    untagged_fresh = [instance("r", "b", ours=False, created="2026-11-24T11:59:00Z")]
    assert not in_cooldown(untagged_fresh, None, NOW, 15)
    assert in_cooldown(untagged_fresh, NOW - timedelta(minutes=3), NOW, 15)


def test_only_tagged_available_non_autoscaling_readers_are_candidates():
    instances = [instance("w", "a", writer=True), instance("untagged", "b", ours=False),
                 instance("application-autoscaling-1", "b"), instance("new", "b", status="creating"),
                 instance("x", "c", ours=False)]
    assert choose_reader_to_remove(instances, 0)[:2] == (None, "no-candidate")


def test_min_readers_counts_every_reader():
    instances = [instance("w", "a", writer=True), instance("r1", "b", ours=False), instance("r2", "b")]
    assert choose_reader_to_remove(instances, 2)[:2] == (None, "min-readers")
    assert choose_reader_to_remove(instances, 1)[0]["instance_id"] == "r2"


def test_never_the_last_reader_in_an_az():
    instances = [instance("w", "a", writer=True), instance("r1", "b", ours=False), instance("r2", "c")]
    assert choose_reader_to_remove(instances, 0)[:2] == (None, "last-in-az")


def test_never_the_last_reader_at_least_the_writers_size():
    instances = [instance("w", "a", writer=True, cls="db.r6g.xlarge"),
                 instance("small", "b", ours=False, cls="db.r6g.large"),
                 instance("big", "b", cls="db.r6g.xlarge")]
    assert choose_reader_to_remove(instances, 0)[:2] == (None, "failover-target")
    instances.append(instance("big2", "c", ours=False, cls="db.r6g.2xlarge"))
    assert choose_reader_to_remove(instances, 0)[0]["instance_id"] == "big"


def test_prefers_the_az_with_most_readers_then_the_newest():
    instances = [instance("w", "a", writer=True),
                 instance("b-old", "b", created="2026-11-24T08:00:00Z"), instance("b-new", "b", created="2026-11-24T10:00:00Z"),
                 instance("b-other", "b", ours=False),
                 instance("c-newest", "c", created="2026-11-24T11:00:00Z"), instance("c-other", "c", ours=False)]
    assert choose_reader_to_remove(instances, 1)[0]["instance_id"] == "b-new"


def test_a_serverless_reader_is_a_failover_target_when_its_max_acu_memory_reaches_the_writers():
    instances = [instance("w", "a", writer=True, cls="db.r6g.xlarge"),  # 32 GiB
                 instance("small", "b", ours=False, cls="db.r6g.large"),
                 instance("sl", "b", cls="db.serverless")]
    assert choose_reader_to_remove(instances, 0, max_acu=16)[:2] == (None, "failover-target")  # 32 GiB: the last one
    assert choose_reader_to_remove(instances, 0, max_acu=15.5)[0]["instance_id"] == "sl"  # 31 GiB: not a target


def test_behind_a_serverless_writer_a_provisioned_reader_counts_by_memory():
    instances = [instance("w", "a", writer=True, cls="db.serverless"),
                 instance("small", "b", ours=False, cls="db.r6g.large"),  # 16 GiB
                 instance("big", "b", cls="db.r6g.xlarge")]  # 32 GiB
    assert choose_reader_to_remove(instances, 0, max_acu=16)[:2] == (None, "failover-target")
    assert choose_reader_to_remove(instances, 0, max_acu=32)[0]["instance_id"] == "big"  # 64 GiB writer: no target
    instances.append(instance("sl", "c", ours=False, cls="db.serverless"))  # as large as the writer
    assert choose_reader_to_remove(instances, 0, max_acu=16)[0]["instance_id"] == "big"


def test_a_serverless_instance_without_max_acu_removes_nothing():
    instances = [instance("w", "a", writer=True, cls="db.r6g.large"),
                 instance("sl", "b", cls="db.serverless"), instance("r", "b", ours=False)]
    reader, reason, detail = choose_reader_to_remove(instances, 0)
    assert (reader, reason) == (None, "failover-target")
    assert "max_acu" in detail and "not known" in detail
