"""What an EventBridge event that started an execution is about (pure): which
cluster or instances, why, and whether to ignore it. docs/triggers.md lists the
events and the documented shapes this reads."""

from __future__ import annotations

from .errors import InvalidInput
from .naming import OWN_READER_NAME
from .tags import CREATED_BY_TAG
from .validation import core_schema, validate

# Aurora Auto Scaling tags the readers it creates with their cluster: "cluster:<cluster-id>".
AUTOSCALING_RESOURCE_TAG = "application-autoscaling:resourceId"

# Reasons an event is acted on by no one (the outcome's `reason`, action `none`).
NO_CLUSTER_IN_ALARM = "no-cluster-in-alarm"  # composite or Metrics Insights alarm: no dimension names one
NO_CLUSTER_IN_REQUEST = "no-cluster-in-request"  # a CreateDBInstance outside any cluster (not Aurora)
AMBIGUOUS_CLUSTER = "ambiguous-cluster"  # the event names more than one cluster


def normalize_identifier(value: object) -> str | None:
    """An RDS identifier as RDS stores it: lowercase, without the `rds:` prefix
    that RDS events may put on SourceIdentifier. None when not a string."""
    if not isinstance(value, str):
        return None
    return value.lower().removeprefix("rds:")


def _require(value: object, field: str) -> str:
    identifier = normalize_identifier(value)
    if not identifier:
        raise InvalidInput(f"{field}: must be a non-empty string")
    return identifier


def _object(value: object, field: str) -> dict:
    """A nested object of the event; absent counts as empty, any other type is malformed."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{field}: must be an object")
    return value


def is_event(document: object) -> bool:
    """An EventBridge event (rather than a workflow's direct, console form)."""
    return isinstance(document, dict) and "detail-type" in document


def request_from_event(event: dict) -> dict:
    """Validate an event and normalise it to a request: {cluster_id, instance_ids,
    cluster_hint, reason, dry_run, event_id, event_time, trigger, ignore}.
    An event this system cannot act on is ignored (a named reason), never an error;
    only a malformed event raises InvalidInput."""
    validate(event, core_schema("event"), InvalidInput, "input")
    detail, kind = event["detail"], event["detail-type"]
    request = {"cluster_id": None, "instance_ids": [], "cluster_hint": None, "dry_run": False,
               "event_id": event["id"], "ignore": None,
               "event_time": event.get("time") if isinstance(event.get("time"), str) else None}
    if kind == "RDS DB Cluster Event":
        request["cluster_id"] = _require(detail.get("SourceIdentifier"), "input.detail.SourceIdentifier")
        request.update(trigger="rds-event", reason=str(detail.get("EventID", "rds-event")))
    elif kind == "RDS DB Instance Event":
        instance_id = _require(detail.get("SourceIdentifier"), "input.detail.SourceIdentifier")
        tags = detail.get("Tags") if isinstance(detail.get("Tags"), dict) else {}
        request.update(trigger="rds-event", reason=str(detail.get("EventID", "rds-event")),
                       instance_ids=[instance_id], cluster_hint=cluster_from_tags(tags))
        if OWN_READER_NAME.search(instance_id) or CREATED_BY_TAG in tags:  # about a reader this system made
            request["ignore"] = "own-request"
    elif kind == "AWS API Call via CloudTrail":
        params = detail.get("requestParameters")
        if not isinstance(params, dict):
            raise InvalidInput("input.detail.requestParameters: must be an object")
        request.update(trigger="cloudtrail", reason=f"{detail.get('eventName')}: {detail.get('errorCode')}")
        if params.get("dBClusterIdentifier") is None:  # the rule requires one; a manual start may not
            request["ignore"] = NO_CLUSTER_IN_REQUEST
        else:
            request["cluster_id"] = _require(
                params["dBClusterIdentifier"], "input.detail.requestParameters.dBClusterIdentifier")
        if _is_own_create(params):
            request["ignore"] = "own-request"
    else:  # CloudWatch Alarm State Change
        clusters, instances = alarm_targets(detail)
        request.update(trigger="alarm", reason=f"alarm {detail.get('alarmName')}", instance_ids=instances,
                       cluster_id=clusters[0] if len(clusters) == 1 else None)
        if _object(detail.get("state"), "input.detail.state").get("value") != "ALARM":
            request["ignore"] = "alarm-not-in-alarm"
        elif len(clusters) > 1:
            request["ignore"] = AMBIGUOUS_CLUSTER
        elif not clusters and not instances:
            request["ignore"] = NO_CLUSTER_IN_ALARM
    return request


def cluster_from_tags(tags: dict) -> str | None:
    """The cluster an RDS event's `Tags` name: Aurora Auto Scaling's readers carry
    application-autoscaling:resourceId = cluster:<cluster-id>."""
    value = tags.get(AUTOSCALING_RESOURCE_TAG)
    if isinstance(value, str) and value.startswith("cluster:"):
        return normalize_identifier(value.removeprefix("cluster:")) or None
    return None


def _is_own_create(params: dict) -> bool:
    """A failed CreateDBInstance of this system's own: reacting to it would start
    a second scale-up for the shortage the first one is already handling."""
    tags = params.get("tags") or []
    return any(isinstance(t, dict) and t.get("key") == CREATED_BY_TAG for t in tags) or bool(
        OWN_READER_NAME.search(normalize_identifier(params.get("dBInstanceIdentifier")) or "")
    )


def alarm_targets(detail: dict) -> tuple[list[str], list[str]]:
    """The clusters and the instances an alarm's metrics name in their
    DBClusterIdentifier / DBInstanceIdentifier dimensions, each once, in order.
    A composite alarm has no metrics, a math or Metrics Insights expression no
    dimensions: they name none."""
    configuration = _object(detail.get("configuration"), "input.detail.configuration")
    metrics = configuration.get("metrics") or []
    if not isinstance(metrics, list):
        raise InvalidInput("input.detail.configuration.metrics: must be an array")
    clusters, instances = [], []
    for index, metric in enumerate(metrics):
        field = f"input.detail.configuration.metrics[{index}]"
        stat = _object(_object(metric, field).get("metricStat"), f"{field}.metricStat")
        dimensions = _object(_object(stat.get("metric"), f"{field}.metricStat.metric").get("dimensions"),
                             f"{field}.metricStat.metric.dimensions")
        for name, found in (("DBClusterIdentifier", clusters), ("DBInstanceIdentifier", instances)):
            if name in dimensions:
                found.append(_require(dimensions[name], f"{field}.metricStat.metric.dimensions.{name}"))
    return list(dict.fromkeys(clusters)), list(dict.fromkeys(instances))


def resolve_cluster(named: str | None, instance_clusters: list[str | None],
                    hint: str | None) -> tuple[str | None, str | None]:
    """The one cluster a request is about: (cluster_id, None), or (None, reason).
    `named` is the cluster the event names, `instance_clusters` the clusters of the
    instances it names (None: gone or in no cluster), `hint` the cluster its tags
    name, used only when nothing else does (the instance is already gone).
    (None, None): no cluster at all, which the caller reports as not managed."""
    found = [c for c in (named, *instance_clusters) if c]
    if not found and hint:
        found = [hint]
    distinct = list(dict.fromkeys(found))
    if len(distinct) > 1:
        return None, AMBIGUOUS_CLUSTER
    return (distinct[0] if distinct else None), None
