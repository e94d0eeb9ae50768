"""Lambda entry points of the restore-drill state machine: validate, delegate, return.
Errors propagate as named exceptions for the state machine's Retry/Catch."""

from aws_lambda_powertools import Logger

from ...aws.clients import translate_errors
from . import steps

logger = Logger(service="aurora-ops")


@logger.inject_lambda_context
@translate_errors
def plan(event, context):
    state = steps.plan(event["input"], event["execution_name"])
    logger.info("planned", extra={"drills": [d["cluster_id"] for d in state["drills"]], "skipped": state["skipped"]})
    return state


@translate_errors
def begin(event, context):
    return steps.begin(event)


@logger.inject_lambda_context
@translate_errors
def enable_data_api(event, context):
    return steps.enable_data_api(event)


@logger.inject_lambda_context
@translate_errors
def run_check(event, context):
    state = steps.run_check(event)
    logger.info("check", extra={"check": state["drill"]["checks"][state["drill"]["next_check"] - 1]})
    return state


@logger.inject_lambda_context
@translate_errors
def cleanup(event, context):
    return steps.cleanup(event)


@logger.inject_lambda_context
@translate_errors
def record(event, context):
    result = steps.record(event)
    logger.info("drill", extra={"result": result})
    return result


@translate_errors
def summarize(event, context):
    return steps.summarize(event)
