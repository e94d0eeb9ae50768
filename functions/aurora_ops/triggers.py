"""What started an execution, and which cluster it is about (pure)."""

from __future__ import annotations

import re

from . import CREATED_BY_TAG
from .errors import InvalidInput
from .validation import validate


OWN_INSTANCE_NAME = re.compile(r"-aops-[0-9a-f]{8}-\d+$")  # planning.reader_identifier


def _require(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field}: must be a non-empty string")
    return value


def parse_scale_up_input(document: object) -> dict:
    """Normalise the direct form or an EventBridge event to a request:
    {cluster_id | instance_id, reason, dry_run, event_id, trigger}."""
    if isinstance(document, dict) and "detail-type" in document:
        validate(document, "scale_up_event", InvalidInput, "input")
        return _from_event(document)
    validate(document, "scale_up_input", InvalidInput, "input")
    return {
        "cluster_id": document["cluster_id"],
        "instance_id": None,
        "reason": document.get("reason", "manual"),
        "dry_run": document.get("dry_run", False),
        "event_id": None,
        "trigger": "manual",
        "ignore": None,
    }


def _from_event(event: dict) -> dict:
    detail, kind = event["detail"], event["detail-type"]
    request = {"cluster_id": None, "instance_id": None, "dry_run": False, "event_id": event["id"], "ignore": None}
    if kind == "RDS DB Cluster Event":
        request["cluster_id"] = _require(detail.get("SourceIdentifier"), "input.detail.SourceIdentifier")
        request.update(trigger="rds-event", reason=str(detail.get("EventID", "rds-event")))
    elif kind == "RDS DB Instance Event":
        request["instance_id"] = _require(detail.get("SourceIdentifier"), "input.detail.SourceIdentifier")
        request.update(trigger="rds-event", reason=str(detail.get("EventID", "rds-event")))
    elif kind == "AWS API Call via CloudTrail":
        params = detail.get("requestParameters")
        if not isinstance(params, dict):
            raise InvalidInput("input.detail.requestParameters: must be an object")
        request["cluster_id"] = _require(
            params.get("dBClusterIdentifier"), "input.detail.requestParameters.dBClusterIdentifier"
        )
        request.update(trigger="cloudtrail", reason=f"{detail.get('eventName')}: {detail.get('errorCode')}")
        if _is_own_create(params):
            request["ignore"] = "own-request"
    else:  # CloudWatch Alarm State Change
        request["cluster_id"] = _alarm_cluster(detail)
        request.update(trigger="alarm", reason=f"alarm {detail.get('alarmName')}")
        if (detail.get("state") or {}).get("value") != "ALARM":
            request["ignore"] = "alarm-not-in-alarm"
    return request


def _is_own_create(params: dict) -> bool:
    """A failed CreateDBInstance of this system's own: reacting to it would start
    a second scale-up for the shortage the first one is already handling."""
    tags = params.get("tags") or []
    return any(isinstance(t, dict) and t.get("key") == CREATED_BY_TAG for t in tags) or bool(
        OWN_INSTANCE_NAME.search(str(params.get("dBInstanceIdentifier", "")))
    )


def _alarm_cluster(detail: dict) -> str:
    metrics = (detail.get("configuration") or {}).get("metrics") or []
    for metric in metrics:
        dimensions = ((metric.get("metricStat") or {}).get("metric") or {}).get("dimensions") or {}
        if dimensions.get("DBClusterIdentifier"):
            return _require(dimensions["DBClusterIdentifier"], "input.detail.configuration.metrics")
    raise InvalidInput(
        "input.detail.configuration.metrics: no metric has a DBClusterIdentifier dimension"
    )
