"""Lambda entry points of the scale-up state machine: validate, delegate, return.
Errors propagate as named exceptions for the state machine's Retry/Catch."""

from aws_lambda_powertools import Logger

from .. import scale_up
from ..aws import translate_errors

logger = Logger(service="aurora-ops")


@logger.inject_lambda_context
@translate_errors
def prepare(event, context):
    return scale_up.prepare(event["input"], event["execution_name"])


@translate_errors
def check_orderable(event, context):
    return scale_up.check_orderable(event)


@logger.inject_lambda_context
@translate_errors
def reserve(event, context):
    return scale_up.reserve(event)


@logger.inject_lambda_context
@translate_errors
def create_reader(event, context):
    state = scale_up.create_reader(event)
    logger.info("create", extra={"attempts": state["attempts"], "current": state["current"]})
    return state


@translate_errors
def check_reader(event, context):
    return scale_up.check_reader(event)


@logger.inject_lambda_context
@translate_errors
def delete_failed_reader(event, context):
    return scale_up.delete_failed_reader(event)


@translate_errors
def check_deleted(event, context):
    return scale_up.check_deleted(event)


@logger.inject_lambda_context
@translate_errors
def finish(event, context):
    result = scale_up.finish(event["state"], event["execution_name"])
    logger.info("outcome", extra={"outcome": result["outcome"]})
    return result
