"""Lambda entry points of the scale-up state machine: validate, delegate, return.
Errors propagate as named exceptions for the state machine's Retry/Catch."""

from aws_lambda_powertools import Logger

from ...aws.clients import translate_errors
from . import steps

logger = Logger(service="aurora-ops")


@logger.inject_lambda_context
@translate_errors
def prepare(event, context):
    return steps.prepare(event["input"], event["execution_name"])


@translate_errors
def check_orderable(event, context):
    return steps.check_orderable(event)


@logger.inject_lambda_context
@translate_errors
def reserve(event, context):
    return steps.reserve(event)


@logger.inject_lambda_context
@translate_errors
def create_reader(event, context):
    state = steps.create_reader(event)
    logger.info("create", extra={"attempts": state["attempts"], "current": state["current"]})
    return state


@translate_errors
def check_reader(event, context):
    return steps.check_reader(event)


@logger.inject_lambda_context
@translate_errors
def delete_failed_reader(event, context):
    return steps.delete_failed_reader(event)


@translate_errors
def check_deleted(event, context):
    return steps.check_deleted(event)


@logger.inject_lambda_context
@translate_errors
def finish(event, context):
    result = steps.finish(event["state"], event["execution_name"])
    logger.info("outcome", extra={"outcome": result["outcome"]})
    return result
