"""Lambda entry points of the snapshot-restore state machine: validate, delegate, return."""

from aws_lambda_powertools import Logger

from .. import restore
from ..aws import translate_errors

logger = Logger(service="aurora-ops")


@logger.inject_lambda_context
@translate_errors
def prepare(event, context):
    return restore.prepare(event["input"], event["execution_name"])


@translate_errors
def copy_snapshot(event, context):
    return restore.copy_snapshot(event)


@translate_errors
def check_copy(event, context):
    return restore.check_copy(event)


@logger.inject_lambda_context
@translate_errors
def restore_cluster(event, context):
    return restore.restore_cluster(event)


@translate_errors
def check_cluster(event, context):
    return restore.check_cluster(event)


@translate_errors
def manage_password(event, context):
    return restore.manage_password(event)


@logger.inject_lambda_context
@translate_errors
def create_instance(event, context):
    return restore.create_instance(event["slot"], event["context"])


@translate_errors
def check_instances(event, context):
    return restore.check_instances(event)


@logger.inject_lambda_context
@translate_errors
def finalize(event, context):
    return restore.finalize(event)


@logger.inject_lambda_context
@translate_errors
def cleanup(event, context):
    state = restore.cleanup(event)
    logger.info("cleanup", extra={"cleanup": state["cleanup"]})
    return state
