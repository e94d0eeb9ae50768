"""restore-drill's pure decisions: the scratch name and class, Data API support, what a
check's answer means, a drill's outcome."""

from datetime import UTC, datetime

import pytest

from aurora_ops.workflows.restore_drill.decisions import (data_api_support, judge, outcome, scratch_class,
                                                          scratch_cluster_id)

NOW = datetime(2026, 11, 29, 3, 5, tzinfo=UTC)


def test_the_scratch_name_is_the_cluster_and_the_minute_inside_the_restore_pattern():
    assert scratch_cluster_id("orders", NOW) == "orders-restored-drill-202611290305"


def test_a_long_cluster_id_is_cut_and_keeps_a_hash_so_names_stay_apart():
    first = scratch_cluster_id("a" * 60, NOW)
    second = scratch_cluster_id("a" * 59 + "b", NOW)
    assert len(first) <= 63 and len(second) <= 63 and first != second
    assert first.endswith("-restored-drill-202611290305") and "--" not in first


def test_the_scratch_class_is_the_configured_one_else_the_smallest_allowed():
    assert scratch_class("db.r6g.large", ("db.r6g.xlarge",), None) == "db.r6g.large"
    assert scratch_class(None, ("db.r6g.2xlarge", "db.r6g.large", "db.serverless"), None) == "db.r6g.large"
    assert scratch_class(None, None, "db.r7g.xlarge") == "db.r7g.xlarge"
    assert scratch_class(None, ("db.serverless",), None) is None


@pytest.mark.parametrize("engine, version, supported", [
    ("aurora-postgresql", "16.4", True), ("aurora-postgresql", "16.0", False), ("aurora-postgresql", "14.8", True),
    ("aurora-postgresql", "14.7", False), ("aurora-postgresql", "13.11", True), ("aurora-postgresql", "12.22", False),
    ("aurora-mysql", "8.0.mysql_aurora.3.08.0", True), ("aurora-mysql", "8.0.mysql_aurora.3.07.1", True),
    ("aurora-mysql", "8.0.mysql_aurora.3.06.0", False), ("aurora-mysql", "5.7.mysql_aurora.2.12.1", False),
])
def test_the_data_api_versions_aws_documents(engine, version, supported):
    ok, detail = data_api_support(engine, version, "us-east-1")
    assert ok is supported and version in detail


def test_no_data_api_in_regions_aws_lists_none_for():
    ok, detail = data_api_support("aurora-postgresql", "16.4", "ap-southeast-4")
    assert not ok and "ap-southeast-4" in detail


def test_a_minimum_on_the_first_column():
    assert judge({"expect": {"min": 1}}, [[{"longValue": 1042}]])[:1] == (True,)
    passed, detail, got = judge({"expect": {"min": 1}}, [[{"longValue": 0}]])
    assert (passed, got) == (False, 0) and "0 < 1" in detail
    assert judge({"expect": {"min": 1}}, [])[0] is False
    assert judge({"expect": {"min": 1}}, [[{"stringValue": "x"}]])[0] is False


def test_exact_rows():
    records = [[{"stringValue": "a"}, {"longValue": 2}], [{"isNull": True}, {"booleanValue": True}]]
    assert judge({"expect": {"rows": [["a", 2], [None, True]]}}, records)[0]
    assert not judge({"expect": {"rows": [["a", 2]]}}, records)[0]


def test_a_drill_passes_only_if_restored_checked_and_cleaned_up():
    done = {"cleanup": {"completed": True}}
    assert outcome({**done, "checks": [{"sql": "s", "result": "passed"}, {"sql": "t", "result": "skipped"}]}) == \
        ("passed", None)
    assert outcome({**done, "checks": [{"sql": "s", "result": "skipped", "detail": "no Data API here"}]}) == \
        ("passed", "the backup restored; no check ran: no Data API here")
    assert outcome({**done, "checks": [{"sql": "s", "result": "timeout"}]})[0] == "failed"
    assert outcome({**done, "checks": [], "error": "RestoreFailed: x"}) == ("failed", "RestoreFailed: x")
    assert outcome({"checks": [], "cleanup": {"completed": False}})[0] == "failed"
