"""What an EventBridge event that started an execution is about (pure): which
cluster or instance, why, and whether to ignore it."""

from __future__ import annotations

from .errors import InvalidInput
from .naming import OWN_READER_NAME
from .tags import CREATED_BY_TAG
from .validation import core_schema, validate


def _require(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field}: must be a non-empty string")
    return value


def is_event(document: object) -> bool:
    """An EventBridge event (rather than a workflow's direct, console form)."""
    return isinstance(document, dict) and "detail-type" in document


def request_from_event(event: dict) -> dict:
    """Validate an event and normalise it to a request:
    {cluster_id | instance_id, reason, dry_run, event_id, event_time, trigger, ignore}."""
    validate(event, core_schema("event"), InvalidInput, "input")
    detail, kind = event["detail"], event["detail-type"]
    request = {"cluster_id": None, "instance_id": None, "dry_run": False, "event_id": event["id"], "ignore": None,
               "event_time": event.get("time") if isinstance(event.get("time"), str) else None}
    if kind == "RDS DB Cluster Event":
        request["cluster_id"] = _require(detail.get("SourceIdentifier"), "input.detail.SourceIdentifier")
        request.update(trigger="rds-event", reason=str(detail.get("EventID", "rds-event")))
    elif kind == "RDS DB Instance Event":
        request["instance_id"] = _require(detail.get("SourceIdentifier"), "input.detail.SourceIdentifier")
        request.update(trigger="rds-event", reason=str(detail.get("EventID", "rds-event")))
        if OWN_READER_NAME.search(request["instance_id"]):  # about a reader this system is creating
            request["ignore"] = "own-request"
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
        OWN_READER_NAME.search(str(params.get("dBInstanceIdentifier", "")))
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
