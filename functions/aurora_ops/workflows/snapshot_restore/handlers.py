"""Lambda entry points of the snapshot-restore state machine: validate, delegate, return."""

from aws_lambda_powertools import Logger

from ...aws.clients import translate_errors
from . import steps

logger = Logger(service="aurora-ops")


@logger.inject_lambda_context
@translate_errors
def prepare(event, context):
    return steps.prepare(event["input"], event["execution_name"])


@translate_errors
def copy_snapshot(event, context):
    return steps.copy_snapshot(event)


@translate_errors
def check_copy(event, context):
    return steps.check_copy(event)


@logger.inject_lambda_context
@translate_errors
def restore_cluster(event, context):
    return steps.restore_cluster(event)


@translate_errors
def check_cluster(event, context):
    return steps.check_cluster(event)


@translate_errors
def manage_password(event, context):
    return steps.manage_password(event)


@logger.inject_lambda_context
@translate_errors
def create_instance(event, context):
    return steps.create_instance(event["slot"], event["context"])


@translate_errors
def check_instances(event, context):
    return steps.check_instances(event)


@logger.inject_lambda_context
@translate_errors
def finalize(event, context):
    return steps.finalize(event)


@logger.inject_lambda_context
@translate_errors
def cleanup(event, context):
    state = steps.cleanup(event)
    logger.info("cleanup", extra={"cleanup": state["cleanup"]})
    return state
