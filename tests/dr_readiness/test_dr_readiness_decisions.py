"""dr-readiness decisions, without AWS: each check passing and failing, readiness,
and which changes are told."""

from datetime import UTC, datetime, timedelta

import pytest

from aurora_ops.core.policy import parse_document
from aurora_ops.workflows.dr_readiness.decisions import (CLUSTER_CHECKS, DSQL_CHECKS, GLOBAL_CHECKS, change,
                                                         cluster_checks, compact, drill_recent, dsql_checks,
                                                         global_checks, missing_cluster, plan_writes,
                                                         reader_as_large_as_writer, readers_in_two_azs, resource,
                                                         snapshot_fresh, subject)

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def instance(instance_id, instance_class="db.r6g.large", az="us-east-1a", writer=False, status="available"):
    return {"instance_id": instance_id, "instance_class": instance_class, "availability_zone": az,
            "writer": writer, "status": status}


def snapshot(hours_old, snapshot_id="orders-snap", kind="automated"):
    return {"snapshot_id": snapshot_id, "type": kind,
            "created": (NOW - timedelta(hours=hours_old)).strftime("%Y-%m-%dT%H:%M:%SZ")}


def states(checks):
    return {c["name"]: c["state"] for c in checks}


# ------------------------------------------------------------------ clusters
@pytest.mark.parametrize("hours,state", [(9, "pass"), (25.9, "pass"), (26, "fail"), (30, "fail")])
def test_the_newest_snapshot_must_be_younger_than_the_limit(hours, state):
    found = snapshot_fresh(snapshot(hours), 26, NOW)
    assert found["state"] == state and "limit 26 h" in found["detail"]


def test_no_snapshot_at_all_fails():
    assert snapshot_fresh(None, 26, NOW) == {"name": "snapshot-fresh", "state": "fail",
                                             "detail": "no available snapshot"}


def test_the_drill_check_applies_only_when_drills_are_enabled():
    assert drill_recent(None, False, 8, NOW)["state"] == "skip"
    assert drill_recent(None, True, 8, NOW)["state"] == "fail"
    assert drill_recent({"at": NOW - timedelta(days=3), "execution": "x"}, True, 8, NOW)["state"] == "pass"
    old = drill_recent({"at": NOW - timedelta(days=9), "execution": "drill-7"}, True, 8, NOW)
    assert old["state"] == "fail" and "9.0 days ago (drill-7)" in old["detail"]


def test_readers_must_serve_in_at_least_two_azs():
    writer = instance("w", az="us-east-1a", writer=True)
    assert readers_in_two_azs([writer, instance("r1", az="us-east-1b"), instance("r2", az="us-east-1c")])["state"] \
        == "pass"
    one = readers_in_two_azs([writer, instance("r1", az="us-east-1b"), instance("r2", az="us-east-1b")])
    assert one == {"name": "readers-in-two-azs", "state": "fail", "detail": "serving readers in us-east-1b only"}
    # the writer's AZ is not a reader's; a reader being deleted serves nobody
    assert readers_in_two_azs([writer, instance("r1", az="us-east-1b"),
                               instance("r2", az="us-east-1c", status="deleting")])["state"] == "fail"
    assert readers_in_two_azs([writer])["detail"] == "no serving reader"


def test_a_reader_at_least_the_writers_size_is_a_safe_failover_target():
    writer = instance("w", "db.r6g.xlarge", writer=True)
    assert reader_as_large_as_writer([writer, instance("r1", "db.r6g.large"), instance("r2", "db.r6g.2xlarge")],
                                     None)["state"] == "pass"
    small = reader_as_large_as_writer([writer, instance("r1", "db.r6g.large")], None)
    assert small["state"] == "fail" and "db.r6g.xlarge (r1 db.r6g.large)" in small["detail"]
    # a large reader that is not serving does not count
    assert reader_as_large_as_writer([writer, instance("r1", "db.r6g.2xlarge", status="insufficient-capacity")],
                                     None)["state"] == "fail"


def test_a_serverless_reader_counts_as_max_acu_times_two_gib():
    writer = instance("w", "db.r6g.xlarge", writer=True)  # 32 GiB
    serverless = instance("r1", "db.serverless")
    assert reader_as_large_as_writer([writer, serverless], 16)["state"] == "pass"  # 32 GiB
    assert reader_as_large_as_writer([writer, serverless], 8)["state"] == "fail"  # 16 GiB
    unknown = reader_as_large_as_writer([writer, serverless], None)
    assert unknown["state"] == "fail" and "max_acu" in unknown["detail"]


def test_a_cluster_without_a_writer_skips_the_size_check():
    assert reader_as_large_as_writer([instance("r1")], None)["state"] == "skip"


def test_every_cluster_check_in_order_and_readiness():
    policy = parse_document({"orders": {"restore_drill": {"enabled": True}}}).clusters["orders"]
    cluster = {"cluster_id": "orders", "status": "available", "serverless_v2": None}
    instances = [instance("w", writer=True), instance("r1", az="us-east-1b"), instance("r2", az="us-east-1c")]
    checks = cluster_checks(cluster, instances, snapshot(2), {"at": NOW - timedelta(days=1), "execution": "d"},
                            policy, NOW)
    assert tuple(states(checks)) == CLUSTER_CHECKS and set(states(checks).values()) == {"pass"}
    assert resource("cluster", "orders", "us-east-1", checks)["ready"] is True
    stale = cluster_checks(cluster, instances, snapshot(40), None, policy, NOW)
    item = resource("cluster", "orders", "us-east-1", stale)
    assert item["ready"] is False and item["failed"] == ["snapshot-fresh", "drill-recent"]


def test_a_missing_cluster_fails_existence_and_skips_the_rest():
    checks = missing_cluster("ghost", "us-east-1")
    assert tuple(states(checks)) == CLUSTER_CHECKS
    assert states(checks)["cluster-exists"] == "fail" and set(list(states(checks).values())[1:]) == {"skip"}


# ------------------------------------------------------------ global clusters
def member(cluster_id, region, writer=False, synchronization="connected"):
    return {"cluster_id": cluster_id, "region": region, "writer": writer,
            "synchronization": None if writer else synchronization}


GROUP = {"global_cluster_id": "g", "members": [member("orders", "us-east-1", writer=True),
                                              member("orders-west", "us-west-2")]}
DESCRIBED = {"orders": {"engine_version": "16.4", "members": ["o1", "o2"]},
             "orders-west": {"engine_version": "16.4", "members": ["w1"]}}


def test_a_healthy_global_cluster_passes_every_check():
    checks = global_checks(GROUP, DESCRIBED, {"orders-west": 0.8}, 30)
    assert tuple(states(checks)) == GLOBAL_CHECKS and set(states(checks).values()) == {"pass"}


@pytest.mark.parametrize("change,failed", [
    ({"lag": 45.0}, "rpo-lag-within-target"),
    ({"lag": 30.0}, "rpo-lag-within-target"),  # under the target, not at it
    ({"lag": None}, "rpo-lag-within-target"),  # no datapoint: the lag is not known
    ({"synchronization": "pending-resync"}, "secondaries-connected"),
    ({"version": "16.2"}, "engine-versions-match"),
    ({"instances": []}, "secondaries-have-instances"),
])
def test_each_global_check_fails_on_its_own(change, failed):
    group = {**GROUP, "members": [GROUP["members"][0],
                                  member("orders-west", "us-west-2", synchronization=change.get("synchronization",
                                                                                                "connected"))]}
    described = {"orders": DESCRIBED["orders"],
                 "orders-west": {"engine_version": change.get("version", "16.4"),
                                 "members": change.get("instances", ["w1"])}}
    checks = global_checks(group, described, {"orders-west": change.get("lag", 0.8)}, 30)
    assert [c["name"] for c in checks if c["state"] != "pass"] == [failed], checks


def test_a_global_cluster_without_a_secondary_is_not_ready():
    checks = global_checks({"global_cluster_id": "g", "members": [member("orders", "us-east-1", writer=True)]},
                           DESCRIBED, {}, 30)
    assert states(checks)["has-secondary"] == "fail" and list(states(checks).values())[1:] == ["skip"] * 4


def test_a_region_that_did_not_answer_makes_its_checks_errors():
    described = {**DESCRIBED, "orders-west": "AwsUnavailable: EndpointConnectionError"}
    checks = states(global_checks(GROUP, described, {"orders-west": "AwsUnavailable: no answer"}, 30))
    assert checks["engine-versions-match"] == checks["secondaries-have-instances"] == "error"
    assert checks["rpo-lag-within-target"] == "error"
    assert resource("global", "g", None, global_checks(GROUP, described, {}, 30))["ready"] is False


# ------------------------------------------------------------------ Aurora DSQL
def dsql(status="ACTIVE", witness="us-west-2", peers=("def456",)):
    own = "arn:aws:dsql:us-east-1:123456789012:cluster/abc123"
    return {"id": "abc123", "arn": own, "status": status, "witness_region": witness,
            "clusters": [own] + [f"arn:aws:dsql:us-east-2:123456789012:cluster/{p}" for p in peers]}


PEER = "arn:aws:dsql:us-east-2:123456789012:cluster/def456"


@pytest.mark.parametrize("status,state", [("ACTIVE", "pass"), ("IDLE", "pass"), ("INACTIVE", "fail"),
                                          ("FAILED", "fail"), ("PENDING_SETUP", "fail")])
def test_a_dsql_cluster_serves_when_active_or_idle(status, state):
    checks = dsql_checks("abc123", "us-east-1", dsql(status), {PEER: {"status": "ACTIVE"}})
    assert tuple(states(checks)) == DSQL_CHECKS and states(checks)["dsql-cluster-active"] == state
    if status == "IDLE":
        assert "cold" in checks[0]["detail"]


def test_every_dsql_peer_must_be_present_and_active():
    assert states(dsql_checks("abc123", "us-east-1", dsql(), {PEER: {"status": "IDLE"}}))["dsql-peers-active"] \
        == "pass"
    gone = dsql_checks("abc123", "us-east-1", dsql(), {PEER: None})[1]
    assert gone == {"name": "dsql-peers-active", "state": "fail", "detail": "def456 (us-east-2) is gone"}
    assert dsql_checks("abc123", "us-east-1", dsql(), {PEER: {"status": "DELETING"}})[1]["state"] == "fail"
    assert dsql_checks("abc123", "us-east-1", dsql(peers=()), {})[1]["state"] == "fail"  # single-Region


def test_a_dsql_cluster_needs_a_witness_region():
    assert dsql_checks("abc123", "us-east-1", dsql(witness=None), {PEER: {"status": "ACTIVE"}})[2]["state"] == "fail"


def test_a_missing_dsql_cluster_fails_and_an_unanswered_one_errs():
    assert [c["state"] for c in dsql_checks("abc123", "us-east-1", None, {})] == ["fail", "skip", "skip"]
    assert [c["state"] for c in dsql_checks("abc123", "us-west-2", "AwsUnavailable: x", {})] == ["error", "skip", "skip"]


# ------------------------------------------------------------------ changes
def ready_item(ready, resource_id="orders"):
    checks = [{"name": "snapshot-fresh", "state": "pass" if ready else "fail", "detail": "d"}]
    return resource("cluster", resource_id, "us-east-1", checks)


def test_a_change_of_readiness_is_told_and_no_other():
    keys = ["k"]
    for before, now_ready, claim, notify in [
        (None, True, True, False),  # first seen, ready: recorded as told, no message
        (None, False, True, True),  # first seen, not ready: told
        ({"ready": True, "notified_ready": True, "since": "t0"}, True, False, False),
        ({"ready": True, "notified_ready": True, "since": "t0"}, False, True, True),
        ({"ready": False, "notified_ready": False, "since": "t0"}, True, True, True),
        ({"ready": False, "notified_ready": False, "since": "t0"}, False, False, False),
    ]:
        (plan,) = plan_writes([ready_item(now_ready)], {"k": before} if before else {}, keys, "t1")
        assert (plan["claim"], plan["notify"]) == (claim, notify), (before, now_ready)
        assert plan["since"] == ("t0" if before and before["ready"] == now_ready else "t1")


def test_a_change_recorded_but_not_told_is_told_next_time():
    """Ready was recorded, but the notification of it was given back: told again."""
    (plan,) = plan_writes([ready_item(True)], {"k": {"ready": True, "notified_ready": False, "since": "t0"}},
                          ["k"], "t1")
    assert plan["notify"] and plan["told"] is False and plan["since"] == "t0"


def test_the_subject_and_the_output_say_what_changed():
    bad, good = change(ready_item(False, "orders")), change(ready_item(True, "billing"))
    assert subject([bad]) == "aurora-ops dr-readiness: cluster orders NOT ready"
    assert subject([bad, good]) == "aurora-ops dr-readiness: 1 NOT ready, 1 ready again"
    assert subject([good, good]) == "aurora-ops dr-readiness: 2 ready again"
    assert bad["failed"] == [{"name": "snapshot-fresh", "state": "fail", "detail": "d"}]
    shown = compact(ready_item(False))
    assert shown["checks"] == {"snapshot-fresh": "fail"} and shown["problems"] == {"snapshot-fresh": "d"}
    assert compact(ready_item(True))["problems"] == {}


def test_assess_hands_record_the_resources_packed_and_they_come_back_whole():
    from aurora_ops.workflows.dr_readiness.decisions import pack, unpack

    fleet = [ready_item(i % 3 != 0, f"fleet-{i:03d}") for i in range(300)]
    packed = pack(fleet)
    assert unpack(packed) == fleet and isinstance(packed, str)
    assert len(packed) * 5 < len(str(fleet))


def test_a_runtime_sdk_without_dsqls_multi_region_properties_is_refused_not_misread(monkeypatch):
    """An older botocore would drop multiRegionProperties and every cluster would look single-Region."""
    from types import SimpleNamespace

    from aurora_ops.aws import dsql
    from aurora_ops.core.errors import SdkTooOld

    old_model = SimpleNamespace(operation_model=lambda name: SimpleNamespace(output_shape=SimpleNamespace(
        members={"identifier": None, "arn": None, "status": None})))
    monkeypatch.setattr(dsql, "client", lambda service, region=None: SimpleNamespace(
        meta=SimpleNamespace(service_model=old_model)))
    with pytest.raises(SdkTooOld, match="multiRegionProperties"):
        dsql.get_cluster("abc123", "us-east-1")
