"""Lambda entry points of the dr-readiness state machine: validate, delegate, return.
Errors propagate as named exceptions for the state machine's Retry/Catch."""

from aws_lambda_powertools import Logger

from ...aws.clients import translate_errors
from . import steps

logger = Logger(service="aurora-ops")


@logger.inject_lambda_context
@translate_errors
def assess(event, context):
    state = steps.assess(event["input"])
    logger.info("assessed", extra={"not_ready": state["not_ready"]})
    return state


@logger.inject_lambda_context
@translate_errors
def record(event, context):
    result = steps.record(event["state"], event["execution_name"])
    logger.info("recorded", extra={"changes": (result.get("output") or {}).get("changes"),
                                   "error": result.get("error")})
    return result
