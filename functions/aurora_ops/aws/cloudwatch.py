"""Thin CloudWatch adapter: per-minute CPU of DB instances, the RPO lag of global secondaries."""

from __future__ import annotations

from datetime import datetime, timedelta

from .clients import client, translate_errors

MAX_QUERIES = 500  # GetMetricData's limit of MetricDataQueries per call


def _query(index: int, instance_id: str) -> dict:
    return {
        "Id": f"m{index}",
        "MetricStat": {
            "Metric": {"Namespace": "AWS/RDS", "MetricName": "CPUUtilization",
                       "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance_id}]},
            "Period": 60,
            "Stat": "Maximum",
        },
    }


@translate_errors
def instance_cpu(windows: dict[str, int], end: datetime) -> dict[str, list[float]]:
    """Per-minute Maximum CPUUtilization of each instance for its window: the
    `windows[instance_id]` one-minute periods ending at `end` (inclusive).
    Up to 500 instances per GetMetricData call; one time range for all, each
    series then cut to its own window."""
    end = end.replace(second=0, microsecond=0)  # whole periods: exactly `minutes` of them
    longest = max(windows.values(), default=1)
    series: dict[str, list[float]] = {instance_id: [] for instance_id in windows}
    ids = sorted(windows)
    for offset in range(0, len(ids), MAX_QUERIES):
        chunk = ids[offset:offset + MAX_QUERIES]
        pages = client("cloudwatch").get_paginator("get_metric_data").paginate(
            MetricDataQueries=[_query(index, instance_id) for index, instance_id in enumerate(chunk)],
            StartTime=end - timedelta(minutes=longest - 1), EndTime=end + timedelta(minutes=1),
            ScanBy="TimestampAscending",
        )
        for page in pages:
            for result in page["MetricDataResults"]:
                instance_id = chunk[int(result["Id"][1:])]
                start = end - timedelta(minutes=windows[instance_id] - 1)
                series[instance_id].extend(value for stamp, value in zip(result["Timestamps"], result["Values"])
                                           if stamp.replace(tzinfo=stamp.tzinfo or end.tzinfo) >= start)
    return series


@translate_errors
def worst_rpo_lags(cluster_ids: list[str], region: str, end: datetime, minutes: int = 5) -> dict[str, float | None]:
    """The worst AuroraGlobalDBRPOLag of secondaries of one region: each cluster's largest
    one-minute Maximum of the last `minutes`, in seconds, or None when it has no datapoint;
    up to 500 clusters per GetMetricData call (its limit of queries). AWS publishes it for
    every Aurora PostgreSQL global database and Aurora MySQL 3.04.0/2.12.0 and later
    (Aurora User Guide, "Performing managed switchovers")."""
    worst: dict[str, float | None] = dict.fromkeys(cluster_ids)
    ids = sorted(set(cluster_ids))
    for offset in range(0, len(ids), MAX_QUERIES):
        chunk = ids[offset:offset + MAX_QUERIES]
        pages = client("cloudwatch", region).get_paginator("get_metric_data").paginate(
            MetricDataQueries=[{"Id": f"lag{index}", "MetricStat": {
                "Metric": {"Namespace": "AWS/RDS", "MetricName": "AuroraGlobalDBRPOLag",
                           "Dimensions": [{"Name": "DBClusterIdentifier", "Value": cluster_id}]},
                "Period": 60, "Stat": "Maximum"}} for index, cluster_id in enumerate(chunk)],
            StartTime=end - timedelta(minutes=minutes), EndTime=end,
        )
        for page in pages:
            for result in page["MetricDataResults"]:
                cluster_id = chunk[int(result["Id"][3:])]
                seen = [v / 1000 for v in result["Values"]] + [w for w in [worst[cluster_id]] if w is not None]
                worst[cluster_id] = max(seen) if seen else None
    return worst
