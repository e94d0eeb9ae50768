"""The failover workflow's pure decisions: fields per operation, the drill's target,
the opt-in, the data-loss gate and the output shape."""

import pytest

from aurora_ops.core.errors import InvalidInput
from aurora_ops.workflows.failover.decisions import (OUTPUT_FIELDS, drill_target, fingerprint, lag_gate, normalized,
                                                     opted_in, output)


def instance(instance_id, tier=1, klass="db.r6g.large", az="us-east-1a", status="available"):
    return {"instance_id": instance_id, "promotion_tier": tier, "instance_class": klass, "availability_zone": az,
            "status": status}


WRITER = instance("w", az="us-east-1a")


def test_aurora_promotes_the_lowest_tier_first():
    chosen, _ = drill_target([WRITER, instance("big", tier=2, klass="db.r6g.4xlarge"), instance("t0", tier=0)], "w", None)
    assert chosen["instance_id"] == "t0"


def test_then_the_largest_class():
    chosen, _ = drill_target([WRITER, instance("small"), instance("large", klass="db.r6g.2xlarge")], "w", None)
    assert chosen["instance_id"] == "large"


def test_then_another_az_than_the_writers():
    chosen, detail = drill_target([WRITER, instance("same", az="us-east-1a"), instance("other", az="us-east-1b")],
                                  "w", None)
    assert chosen["instance_id"] == "other" and "would promote" in detail


def test_readers_that_are_not_available_are_never_chosen():
    chosen, detail = drill_target([WRITER, instance("r", status="modifying")], "w", None)
    assert chosen is None and "no available reader" in detail


@pytest.mark.parametrize("wanted, expected", [("w", "is the writer"), ("ghost", "is not an instance of the cluster"),
                                              ("busy", "is modifying")])
def test_a_named_target_must_be_an_available_reader(wanted, expected):
    chosen, detail = drill_target([WRITER, instance("busy", status="modifying")], "w", wanted)
    assert chosen is None and detail == f"{wanted} {expected}"


def test_the_opt_in_needs_the_policy_and_the_tag():
    assert opted_in("drill", "c", ("drill",), {"aurora-ops:failover": "switchover drill"})[0]
    assert not opted_in("drill", "c", ("switchover",), {"aurora-ops:failover": "drill"})[0]
    assert not opted_in("drill", "c", None, {})[0]
    ok, detail = opted_in("failover", "c", ("failover",), {"aurora-ops:failover": "drill"})
    assert not ok and "IAM" in detail
    assert opted_in("failover", "c", ("failover",), None)[0]  # tags unreadable (impaired region): the policy decides


def test_the_gate_picks_the_secondary_with_the_lowest_lag():
    target, lag, checks = lag_gate({"west": 4.0, "eu": 0.8, "ap": None}, None, 30)
    assert (target, lag) == ("eu", 0.8) and all(c["ok"] for c in checks)


def test_the_gate_refuses_above_the_limit_and_without_data():
    target, lag, checks = lag_gate({"west": 45.0}, "west", 30)
    assert [c["name"] for c in checks if not c["ok"]] == ["data-loss-above-limit"] and lag == 45.0
    target, lag, checks = lag_gate({"west": None}, "west", 30)
    assert checks[0]["name"] == "no-lag-data" and not checks[0]["ok"] and lag is None
    target, lag, checks = lag_gate({"west": None, "eu": None}, None, 30)
    assert target is None and checks[0]["name"] == "no-lag-data" and not checks[0]["ok"]


def test_the_gate_lets_through_exactly_the_limit():
    assert lag_gate({"west": 30.0}, "west", 30)[2][1]["ok"]


def test_fields_of_another_operation_are_invalid_input():
    with pytest.raises(InvalidInput, match=r"^input.failback: not a field of switchover"):
        normalized({"operation": "switchover", "global_cluster_id": "g", "target_cluster_id": "t", "failback": True})


def test_defaults_and_lowercase_identifiers():
    request = normalized({"operation": "detach-and-promote", "global_cluster_id": "Orders-Global"})
    assert request["global_cluster_id"] == "orders-global" and request["max_data_loss_seconds"] == 30
    assert normalized({"operation": "drill", "cluster_id": "Orders"})["failback"] is False


def test_a_dry_run_and_a_real_run_of_the_same_request_share_a_fingerprint():
    base = {"operation": "drill", "cluster_id": "orders"}
    assert fingerprint(normalized(base)) == fingerprint(normalized({**base, "dry_run": True}))
    assert fingerprint(normalized(base)) != fingerprint(normalized({**base, "failback": True}))


def test_every_outcome_has_the_same_keys():
    state = {"operation": "drill", "started_at": 100.0, "poll": {"wait_seconds": 5},
             "legs": [{"started_at": 101.0, "writer_changed_at": 111.0, "available_at": 116.0}]}
    result = output(state, "completed", None, 130.0)
    assert tuple(result)[:len(OUTPUT_FIELDS)] == OUTPUT_FIELDS
    assert result["timings"]["writer_changed_after_seconds"] == 10.0
    assert result["timings"]["available_after_seconds"] == 15.0 and result["timings"]["total_seconds"] == 30.0
    assert tuple(output({}, "failed", "InvalidInput", 1.0))[:len(OUTPUT_FIELDS)] == OUTPUT_FIELDS
