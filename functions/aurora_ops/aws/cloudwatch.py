"""Thin CloudWatch adapter: per-minute CPU of DB instances."""

from __future__ import annotations

from datetime import datetime, timedelta

from .clients import client, translate_errors


@translate_errors
def instance_cpu(instance_ids: list[str], end: datetime, minutes: int) -> dict[str, list[float]]:
    """Per-minute Maximum CPUUtilization of each instance for the `minutes`
    one-minute periods ending at `end` (inclusive): one metric requested per instance."""
    queries = [
        {
            "Id": f"m{index}",
            "MetricStat": {
                "Metric": {"Namespace": "AWS/RDS", "MetricName": "CPUUtilization",
                           "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance_id}]},
                "Period": 60,
                "Stat": "Maximum",
            },
        }
        for index, instance_id in enumerate(instance_ids)
    ]
    end = end.replace(second=0, microsecond=0)  # whole periods: exactly `minutes` of them
    start = end - timedelta(minutes=minutes - 1)
    series: dict[str, list[float]] = {instance_id: [] for instance_id in instance_ids}
    pages = client("cloudwatch").get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries, StartTime=start, EndTime=end + timedelta(minutes=1), ScanBy="TimestampAscending"
    )
    for page in pages:
        for result in page["MetricDataResults"]:
            series[instance_ids[int(result["Id"][1:])]].extend(result["Values"])
    return series
