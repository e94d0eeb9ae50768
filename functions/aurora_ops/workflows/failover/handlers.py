"""Lambda entry points of the failover state machine: validate, delegate, return.
Errors propagate as named exceptions for the state machine's Retry/Catch."""

from aws_lambda_powertools import Logger

from ...aws.clients import translate_errors
from . import steps

logger = Logger(service="aurora-ops")


@logger.inject_lambda_context
@translate_errors
def prepare(event, context):
    state = steps.prepare(event["input"], event["execution_name"])
    logger.info("prepared", extra={"next": state["next"], "reason": state["reason"], "checks": state["checks"]})
    return state


@logger.inject_lambda_context
@translate_errors
def start_operation(event, context):
    state = steps.start_operation(event)
    logger.info("started", extra={"leg": state["legs"][state["leg"]]})
    return state


@translate_errors
def check_progress(event, context):
    return steps.check_progress(event)


@logger.inject_lambda_context
@translate_errors
def finish(event, context):
    result = steps.finish(event)
    logger.info("outcome", extra={"outcome": result["output"]})
    return result
