"""Restore-drill decisions (pure): the scratch cluster's name and class, whether the
RDS Data API can query it, what a check's answer means, and a drill's outcome."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from ...core.instances import SERVERLESS_CLASS, size_rank

SCRATCH_MARK = "-restored-drill-"  # inside the default RestoreTargetPattern (*-restored*), so IAM lets it be made
MAX_IDENTIFIER = 63
# Aurora versions the RDS Data API serves on provisioned and Serverless v2 clusters
# (Aurora User Guide, "Supported Regions and Aurora DB engines for RDS Data API").
DATA_API_POSTGRESQL = {13: (13, 11), 14: (14, 8), 15: (15, 3), 16: (16, 1), 17: (17, 4), 18: (18, 3)}
DATA_API_MYSQL = (3, 7)  # Aurora MySQL 3.07 and later
# Regions where that table says "Not available" for both engines.
DATA_API_NOT_IN_REGIONS = frozenset({"ap-south-2", "ap-southeast-4", "ap-southeast-6", "ap-east-2", "ca-west-1",
                                     "cn-north-1", "cn-northwest-1", "eu-central-2", "il-central-1", "mx-central-1",
                                     "us-gov-east-1", "us-gov-west-1"})


def scratch_cluster_id(cluster_id: str, moment: datetime) -> str:
    """`<cluster>-restored-drill-<yyyymmddhhmm>`; a long cluster id is cut and keeps a
    hash of itself, so two clusters never share a scratch name."""
    stamp = moment.strftime("%Y%m%d%H%M")
    room = MAX_IDENTIFIER - len(SCRATCH_MARK) - len(stamp)
    base = cluster_id
    if len(cluster_id) > room:
        digest = hashlib.sha256(cluster_id.encode()).hexdigest()[:4]
        base = f"{cluster_id[:room - 5].rstrip('-')}-{digest}"
    return f"{base}{SCRATCH_MARK}{stamp}"


def scratch_class(configured: str | None, allowed: tuple[str, ...] | None, writer_class: str | None) -> str | None:
    """`restore_drill.instance_class`, else the smallest of the classes the policy allows
    (the writer's when it names none); db.serverless needs a capacity range the scratch
    cluster does not have, so it is passed over."""
    if configured:
        return configured
    candidates = [c for c in (allowed or ((writer_class,) if writer_class else ())) if c != SERVERLESS_CLASS]
    return min(candidates, key=size_rank) if candidates else None


def data_api_support(engine: str, version: str, region: str) -> tuple[bool, str]:
    """Whether AWS documents the RDS Data API for this engine version in this region."""
    if region in DATA_API_NOT_IN_REGIONS:
        return False, f"AWS offers the RDS Data API for Aurora in no engine version in {region}"
    numbers = [int(n) for n in re.findall(r"\d+", version)]
    if engine == "aurora-postgresql" and numbers:
        minimum = DATA_API_POSTGRESQL.get(numbers[0])
        if minimum and tuple(numbers[:2]) >= minimum:
            return True, f"Aurora PostgreSQL {version} serves the Data API"
        wanted = f"{minimum[0]}.{minimum[1]}" if minimum else "13.11"
        return False, f"the Data API needs Aurora PostgreSQL {wanted} or later; this cluster runs {version}"
    if engine == "aurora-mysql":
        aurora = re.search(r"mysql_aurora\.(\d+)\.(\d+)", version)
        if aurora and (int(aurora.group(1)), int(aurora.group(2))) >= DATA_API_MYSQL:
            return True, f"Aurora MySQL {version} serves the Data API"
        return False, f"the Data API needs Aurora MySQL 3.07 or later; this cluster runs {version}"
    return False, f"the Data API is not documented for {engine} {version}"


def field_value(field: dict):
    """One Data API field ({"longValue": 3}, {"isNull": true}, ...) as a plain value."""
    if field.get("isNull"):
        return None
    if "arrayValue" in field:
        return field["arrayValue"]
    return next(iter(field.values()), None)


def judge(check: dict, records: list[list[dict]]) -> tuple[bool, str, object]:
    """(passed, detail, what came back) for a check's `expect`: {"min": N} on the first
    column of the first row, or {"rows": [[...]]} exactly."""
    rows = [[field_value(f) for f in record] for record in records]
    expect = check["expect"]
    if "rows" in expect:
        ok = rows == expect["rows"]
        return ok, f"rows {'equal' if ok else 'differ from'} the expected {expect['rows']}", rows
    first = rows[0][0] if rows and rows[0] else None
    if not isinstance(first, (int, float)) or isinstance(first, bool):
        return False, f"expected a number of at least {expect['min']} in the first column, got {first!r}", first
    ok = first >= expect["min"]
    return ok, f"{first} {'>=' if ok else '<'} {expect['min']}", first


def outcome(drill: dict) -> tuple[str, str | None]:
    """(passed | failed, why not): the restore worked, no check failed, and what the
    drill made is gone."""
    if drill.get("error"):
        return "failed", drill["error"]
    failed = [c for c in drill.get("checks", []) if c["result"] not in ("passed", "skipped")]
    if failed:
        return "failed", f"check {failed[0]['sql']!r}: {failed[0]['result']}"
    if not drill.get("cleanup", {}).get("completed"):
        return "failed", "cleanup did not complete: the scratch cluster may still exist"
    checks = drill.get("checks", [])
    if checks and all(c["result"] == "skipped" for c in checks):
        return "passed", f"the backup restored; no check ran: {checks[0].get('detail')}"
    return "passed", None
