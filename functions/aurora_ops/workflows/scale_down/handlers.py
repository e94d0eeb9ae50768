"""Lambda entry points of the scale-down state machine: validate, delegate, return."""

from aws_lambda_powertools import Logger

from ...aws.clients import translate_errors
from . import steps

logger = Logger(service="aurora-ops")


@translate_errors
def plan(event, context):
    return steps.plan(event["input"])


@logger.inject_lambda_context
@translate_errors
def evaluate_cluster(event, context):
    result = steps.evaluate_cluster(event["cluster_id"], event["instance_id"], event["execution_name"])
    logger.info("decision", extra={"decision": result})
    return result


@translate_errors
def settle(event, context):
    return steps.settle(event["state"], event["execution_name"])
