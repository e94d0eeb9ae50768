"""Named exceptions. Lambda reports the class name as the error type, so
Step Functions Retry/Catch rules and the execution's error match these names."""

import json


def caught_error_message(cause: str | None) -> str | None:
    """A caught Lambda error's Cause is the runtime's JSON error payload: its message.
    Lambda's own failures (Lambda.ServiceException, ...) carry plain text, and
    States.Timeout an empty cause: those are returned as they are."""
    try:
        payload = json.loads(cause)
    except (TypeError, ValueError):
        return cause or None
    if isinstance(payload, dict) and isinstance(payload.get("errorMessage"), str):
        return payload["errorMessage"]
    return cause


def execution_error_name(caught: str | None, default: str) -> str:
    """The error an execution fails with, from a caught error's name. Names that
    begin with `States.` are reserved for Step Functions (a Fail state may not
    raise them): States.Timeout becomes StepTimeout, and so on."""
    if not caught:
        return default
    return f"Step{caught.removeprefix('States.')}" if caught.startswith("States.") else caught


class AuroraOpsError(Exception):
    """Base class of every error a handler raises on purpose."""


class InvalidInput(AuroraOpsError):
    pass


class InvalidPolicy(AuroraOpsError):
    pass


class NoCapacityAvailable(AuroraOpsError):
    pass


class AwsThrottled(AuroraOpsError):
    """An AWS API throttled us; the state machine retries with backoff."""


class AwsUnavailable(AuroraOpsError):
    """AWS did not answer (a transport error) or failed on its side (InternalFailure,
    ServiceUnavailable, ...): transient, so the state machine retries with backoff."""


class ReaderDeletionTimeout(AuroraOpsError):
    pass


class OwnershipViolation(AuroraOpsError):
    """Refusing to change a resource this execution did not create."""


class AwsApiError(AuroraOpsError):
    """Base of the per-code classes made by `aws_error`."""


_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
# Server-side failures AWS documents as transient (HTTP 5xx): retried like throttling.
_UNAVAILABLE_CODES = frozenset(
    {"InternalFailure", "InternalError", "InternalServerError", "InternalServiceError", "ServiceUnavailable",
     "ServiceUnavailableException", "InternalServerException"}
)
_by_code: dict[str, type[AwsApiError]] = {}


def is_throttling(code: str) -> bool:
    return code in _THROTTLING_CODES


def aws_error_class(code: str) -> type[AwsApiError]:
    """The exception class named after an AWS error code, so the execution's
    error reads e.g. `InvalidParameterCombination` instead of `ClientError`."""
    if not code.isidentifier():
        return AwsApiError
    cls = _by_code.get(code)
    if cls is None:
        cls = _by_code[code] = type(code, (AwsApiError,), {})
    return cls


def aws_error(code: str, message: str) -> AuroraOpsError:
    if is_throttling(code):
        return AwsThrottled(f"{code}: {message}")
    if code in _UNAVAILABLE_CODES:
        return AwsUnavailable(f"{code}: {message}")
    return aws_error_class(code)(message)


class SnapshotNotFound(AuroraOpsError):
    pass


class TargetExists(AuroraOpsError):
    pass


class RestoreFailed(AuroraOpsError):
    pass


class CopyFailed(AuroraOpsError):
    pass


class RestoreTimeout(AuroraOpsError):
    pass


class FailoverFailed(AuroraOpsError):
    """The operation ended without the target as the writer (AWS rolled it back or chose another)."""


class FailoverTimeout(AuroraOpsError):
    """The writer or the cluster did not settle within the workflow's poll limit."""


class NotificationFailed(AuroraOpsError):
    """A notification that must go out (dr-readiness: a change of readiness) was not published."""


class SdkTooOld(AuroraOpsError):
    """The AWS SDK the Lambda runtime carries does not know a service or a field this code needs."""
