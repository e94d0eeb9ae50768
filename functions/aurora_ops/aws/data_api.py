"""Thin adapter for the RDS Data API (a restore drill's checks) and the HTTP endpoint
that serves it on an Aurora cluster."""

from __future__ import annotations

from .clients import client, translate_errors


@translate_errors
def enable_http_endpoint(cluster_arn: str, region: str | None = None) -> None:
    """EnableHttpEndpoint: how provisioned and Serverless v2 clusters turn the Data API on
    (Aurora User Guide, "Enabling the RDS Data API"). Enabling it twice is harmless."""
    client("rds", region).enable_http_endpoint(ResourceArn=cluster_arn)


@translate_errors
def execute(cluster_arn: str, secret_arn: str, sql: str, database: str | None = None,
            region: str | None = None) -> list[list[dict]]:
    """Run one statement (at most 45 seconds: the Data API's limit); its records, each a
    list of Data API fields."""
    params = {"resourceArn": cluster_arn, "secretArn": secret_arn, "sql": sql}
    if database:
        params["database"] = database
    return client("rds-data", region).execute_statement(**params).get("records", [])
