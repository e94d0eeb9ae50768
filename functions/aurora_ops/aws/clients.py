"""Thin AWS adapter plumbing: one cached client per (service, region) and the
translation of AWS errors into named exceptions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from ..core.errors import AwsUnavailable, aws_error

# Throttling gets a couple of quick SDK retries; what is left is raised as
# AwsThrottled and retried with backoff by the state machine, where it is visible.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)
# A Data API statement may run 45 seconds (RDS Data API reference, ExecuteStatement): wait a
# little longer, and never run a statement twice on the SDK's own initiative.
_SERVICE_CONFIG = {"rds-data": Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5,
                                      read_timeout=50)}


@functools.cache
def client(service: str, region: str | None = None) -> Any:
    return boto3.client(service, region_name=region, config=_SERVICE_CONFIG.get(service, _CONFIG))


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "Unknown")


def translate_errors(fn: Callable) -> Callable:
    """Re-raise botocore ClientErrors as named exceptions (see errors.aws_error),
    and transport errors (after the SDK's own retries) as AwsUnavailable."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ClientError as exc:
            message = exc.response.get("Error", {}).get("Message", str(exc))
            raise aws_error(error_code(exc), message) from exc
        except (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError) as exc:  # no answer at all
            raise AwsUnavailable(f"{type(exc).__name__}: {exc}") from exc

    return wrapper
