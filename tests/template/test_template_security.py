"""Least privilege, encryption, logging and alarms of template.yaml, checked by code.

That each role grants exactly what its handler's calls need (nothing missing,
nothing extra) is checked against AWS's authorization data in test_iam_calls.py;
that each statement means something to AWS, in test_iam_data.py. Here: the
shape rules a reviewer would otherwise check by eye.
"""

from pathlib import Path

import pytest

from aurora_ops_sim.template import load_template

DOC = load_template(Path("template.yaml"))
RESOURCES = DOC["Resources"]

# Step Functions' log delivery to CloudWatch Logs: AWS requires Resource "*" for
# these (they act on the account's log delivery setup, not on one log group).
# The only change actions allowed on "*".
LOG_DELIVERY_ON_STAR = {
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
}

OWNERSHIP_KEYS = {"aws:ResourceTag/aurora-ops:created-by", "aws:ResourceTag/aurora-ops:operation"}


# ----------------------------------------------------------------- helpers
def _as_list(value):
    return value if isinstance(value, list) else [value]


def _branches(item):
    """A statement, or both branches of an `!If [cond, statement, !Ref AWS::NoValue]`."""
    if isinstance(item, dict) and "Fn::If" in item:
        for branch in item["Fn::If"][1:]:
            yield from _branches(branch)
    elif item != {"Ref": "AWS::NoValue"}:
        yield item


def _statements_of(document):
    for item in _as_list(document.get("Statement", [])):
        yield from _branches(item)


def all_statements():
    """(where, statement) for every IAM policy statement in the template."""
    for logical_id, resource in RESOURCES.items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            for item in props.get("Policies") or []:
                for policy in _branches(item):
                    if isinstance(policy, dict) and "Statement" in policy:
                        for s in _statements_of(policy):
                            yield logical_id, s
        elif kind == "AWS::IAM::Role":
            for s in _statements_of(props["AssumeRolePolicyDocument"]):
                yield f"{logical_id} trust", s
            for policy in props.get("Policies", []):
                for s in _statements_of(policy["PolicyDocument"]):
                    yield f"{logical_id} {policy['PolicyName']}", s
        elif kind in ("AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::IAM::Policy",
                      "AWS::IAM::ManagedPolicy"):
            for s in _statements_of(props["PolicyDocument"]):
                yield logical_id, s


def function_statements(logical_id):
    for item in RESOURCES[logical_id]["Properties"].get("Policies") or []:
        for policy in _branches(item):
            assert isinstance(policy, dict) and set(policy) == {"Statement"}, (
                f"{logical_id}: only inline statements (no managed or SAM template policies)")
            yield from _statements_of(policy)


def actions(statement):
    return _as_list(statement["Action"])


def changes(action_list):
    return [a for a in action_list if not a.split(":", 1)[1].startswith(("Describe", "Get", "List"))]


def functions():
    return [i for i, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"]


def state_machines():
    return [i for i, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::StateMachine"]


def _managed_cluster_arns(resource):
    """True for the !Split/!Sub that makes one cluster ARN per ManagedClusterIds entry."""
    split = resource.get("Fn::Split") if isinstance(resource, dict) else None
    if not split or split[0] != ",":
        return False
    sub = split[1]["Fn::Sub"]
    return (sub[0].endswith(":cluster:${Ids}")
            and sub[1]["Ids"]["Fn::Join"][1] == {"Ref": "ManagedClusterIds"}
            and sub[1]["Ids"]["Fn::Join"][0] == {"Fn::Sub": ",arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:"})


# ------------------------------------------------------------------- tests
def test_the_walk_finds_the_statements():
    found = list(all_statements())
    kinds = {where.split()[0] for where, _ in found}
    no_aws_call = {f for f in functions() if RESOURCES[f]["Properties"].get("Policies") == []}
    assert no_aws_call <= {"PolicyGateFunction"}  # the gate calls no AWS API
    assert set(functions()) - no_aws_call <= kinds
    assert {"TriggerRole", "ScaleDownScheduleRole", "TriggerDeadLetterQueuePolicy"} <= kinds
    assert set(state_machines()) <= kinds
    assert len(found) > 70


def test_no_action_has_a_wildcard():
    for where, statement in all_statements():
        for action in actions(statement):
            assert "*" not in action, (where, action)


def test_nothing_that_changes_anything_is_allowed_on_every_resource():
    for where, statement in all_statements():
        if "Resource" not in statement:  # trust policies
            assert "Principal" in statement, where
            continue
        if statement["Resource"] == "*" or "*" in _as_list(statement["Resource"]):
            risky = [a for a in changes(actions(statement)) if a not in LOG_DELIVERY_ON_STAR]
            assert not risky, (where, risky)


def test_only_the_state_machines_log_delivery_statement_uses_the_allow_list():
    for where, statement in all_statements():
        used = set(actions(statement)) & LOG_DELIVERY_ON_STAR
        if used:
            assert where in state_machines(), where
            assert set(actions(statement)) == LOG_DELIVERY_ON_STAR, where


def test_destructive_rds_actions_require_ownership_or_a_managed_cluster():
    checked = 0
    for where, statement in all_statements():
        destructive = [a for a in actions(statement) if a.startswith(("rds:Delete", "rds:Modify", "rds:Reboot"))]
        if not destructive:
            continue
        checked += 1
        condition_keys = {key for op in statement.get("Condition", {}).values() for key in op}
        by_tag = bool(condition_keys & OWNERSHIP_KEYS)
        by_cluster = all(_managed_cluster_arns(r) for r in _as_list(statement["Resource"]))
        assert by_tag or by_cluster, (where, destructive)
        if by_tag:
            values = [v for op in statement["Condition"].values() for k, v in op.items() if k in OWNERSHIP_KEYS]
            assert values and all(v == "*" for v in values), (where, statement["Condition"])
            assert set(statement["Condition"]) == {"StringLike"}, where
    assert checked >= 8


FAILOVER_ACTIONS = {"rds:FailoverDBCluster": "drill", "rds:SwitchoverGlobalCluster": "switchover",
                    "rds:FailoverGlobalCluster": "failover", "rds:RemoveFromGlobalCluster": "detach-and-promote"}


def test_failovers_only_on_clusters_whose_opt_in_tag_names_the_operation():
    """On a cluster, each failover action needs the tag aurora-ops:failover listing its
    operation; the global-cluster statement names global clusters only (the request
    also names the target cluster, which must then pass its own statement)."""
    on_clusters, on_globals = {}, 0
    for where, statement in all_statements():
        found = set(actions(statement)) & set(FAILOVER_ACTIONS)
        if not found:
            continue
        assert where == "FailoverStartOperationFunction", where
        resources = [r["Fn::Sub"] for r in _as_list(statement["Resource"])]
        if all(":global-cluster:" in r for r in resources):
            assert found <= set(FAILOVER_ACTIONS) - {"rds:FailoverDBCluster"} and "Condition" not in statement
            on_globals += 1
            continue
        assert resources == ["arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster:*"], where
        (action,) = found
        assert statement["Condition"] == {"StringLike": {
            "aws:ResourceTag/aurora-ops:failover": f"*{FAILOVER_ACTIONS[action]}*"}}, action
        on_clusters[action] = True
    assert set(on_clusters) == set(FAILOVER_ACTIONS) and on_globals == 1


def test_scale_up_creates_instances_only_in_the_managed_clusters():
    split_statements = tagged = 0
    for logical_id in functions():
        if not logical_id.startswith("ScaleUp"):
            continue
        for statement in function_statements(logical_id):
            if "rds:CreateDBInstance" not in actions(statement):
                continue
            for resource in _as_list(statement["Resource"]):
                if _managed_cluster_arns(resource):
                    split_statements += 1
                    continue
                arn = resource["Fn::Sub"]
                if arn.endswith(":cluster:*"):  # any cluster, only with the selection tag
                    assert statement["Condition"] == {"StringLike": {"aws:ResourceTag/aurora-ops:policy": "*"}}
                    tagged += 1
                    continue
                assert ":cluster:" not in arn and not arn.endswith(":*:*"), (logical_id, arn)
                assert arn.rsplit(":", 2)[-2] in ("db", "pg", "og", "subgrp", "secgrp"), (logical_id, arn)
                if arn.rsplit(":", 2)[-2] == "db":
                    assert statement["Condition"] == {
                        "StringLike": {"aws:RequestTag/aurora-ops:created-by": "*"},
                        "StringEquals": {"rds:DatabaseEngine": ["aurora-mysql", "aurora-postgresql"]}}
    assert (split_statements, tagged) == (1, 1)


def test_restore_creates_instances_only_in_clusters_of_an_operation():
    for logical_id in ("SnapshotRestoreCreateInstanceFunction", "SnapshotRestoreCheckInstancesFunction"):
        for statement in function_statements(logical_id):
            if "rds:CreateDBInstance" not in actions(statement):
                continue
            for resource in _as_list(statement["Resource"]):
                if ":cluster:" in resource["Fn::Sub"]:
                    assert statement["Condition"] == {"StringLike": {"aws:ResourceTag/aurora-ops:operation": "*"}}


def test_every_function_has_its_own_role():
    assert "Role" not in DOC["Globals"]["Function"]
    for logical_id in functions():
        props = RESOURCES[logical_id]["Properties"]
        assert "Role" not in props, logical_id
        assert "Policies" in props, f"{logical_id}: SAM makes a role per function only with Policies"


def test_key_permissions_are_on_the_topic_or_queue_key_and_only_through_the_service():
    """kms:GenerateDataKey/Decrypt: for the topic, on its key (KmsKeyArn or the
    stack's NotificationKey) via SNS; for the schedule's dead-letter queue, only
    under `!If [HasKmsKey, ..., !Ref AWS::NoValue]` on KmsKeyArn via SQS."""
    topic_key = {"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, {"Fn::GetAtt": ["NotificationKey", "Arn"]}]}
    found = 0
    for logical_id in functions():
        for policy in RESOURCES[logical_id]["Properties"]["Policies"]:
            assert "Fn::If" not in policy, logical_id
            for s in _statements_of(policy):
                if {"kms:GenerateDataKey", "kms:Decrypt"} & set(actions(s)):
                    assert set(actions(s)) == {"kms:GenerateDataKey", "kms:Decrypt"}, logical_id
                    assert s["Resource"] == topic_key, logical_id
                    assert s["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "sns.${AWS::Region}.amazonaws.com"}
                    found += 1
    assert found == 8  # the eight functions that publish
    role = RESOURCES["ScaleDownScheduleRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    conditional = [item["Fn::If"] for item in role if isinstance(item, dict) and "Fn::If" in item]
    assert len(conditional) == 1
    condition, granted, absent = conditional[0]
    assert condition == "HasKmsKey" and absent == {"Ref": "AWS::NoValue"}
    assert granted["Resource"] == {"Ref": "KmsKeyArn"}
    assert granted["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}


def test_without_a_key_the_stack_makes_one_that_lets_alarms_publish():
    key = RESOURCES["NotificationKey"]
    assert key["Condition"] == "NoKmsKey" and key["Properties"]["EnableKeyRotation"] is True
    alarms = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AlarmsPublishToTheTopic"]
    assert alarms and alarms[0]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms[0]["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_state_machines_invoke_only_their_own_functions():
    for logical_id in state_machines():
        props = RESOURCES[logical_id]["Properties"]
        substituted = {v["Fn::GetAtt"][0] for v in props["DefinitionSubstitutions"].values() if "Fn::GetAtt" in v}
        invoked = set()
        for policy in props["Policies"]:
            if "LambdaInvokePolicy" in policy:
                invoked.add(policy["LambdaInvokePolicy"]["FunctionName"]["Ref"])
            else:
                assert set(policy) == {"Statement"}, (logical_id, policy)
        assert invoked == substituted, logical_id


# -------------------------------------------------- encryption and logging
def test_kms_key_parameter_and_encryption_at_rest():
    param = DOC["Parameters"]["KmsKeyArn"]
    assert param["Default"] == "" and "logs." in param["Description"]
    assert DOC["Conditions"]["HasKmsKey"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "KmsKeyArn"}, ""]}]}
    topic = RESOURCES["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, {"Ref": "NotificationKey"}]}
    for queue in ("TriggerDeadLetterQueue", "ScaleDownDeadLetterQueue"):
        props = RESOURCES[queue]["Properties"]
        assert props["KmsMasterKeyId"] == {"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, {"Ref": "AWS::NoValue"}]}
        assert props["SqsManagedSseEnabled"] == {"Fn::If": ["HasKmsKey", {"Ref": "AWS::NoValue"}, True]}
    sse = RESOURCES["StateTable"]["Properties"]["SSESpecification"]["Fn::If"]
    assert sse[0] == "HasKmsKey"
    assert sse[1] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "KmsKeyArn"}}
    assert sse[2] == {"SSEEnabled": True}


def test_every_log_group_keeps_logs_for_the_retention_and_uses_the_key():
    groups = [i for i, r in RESOURCES.items() if r["Type"] == "AWS::Logs::LogGroup"]
    assert len(groups) == len(functions()) + len(state_machines())
    for logical_id in groups:
        props = RESOURCES[logical_id]["Properties"]
        assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id
        assert props["KmsKeyId"] == {"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, {"Ref": "AWS::NoValue"}]}


def test_every_function_logs_to_its_own_explicit_log_group():
    used = set()
    for logical_id in functions():
        ref = RESOURCES[logical_id]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert RESOURCES[ref]["Type"] == "AWS::Logs::LogGroup", logical_id
        name = RESOURCES[ref]["Properties"]["LogGroupName"]["Fn::Sub"]
        assert name.startswith("/aws/lambda/"), name
        used.add(ref)
    assert len(used) == len(functions())


def test_every_state_machine_logs_errors_and_traces():
    for logical_id in state_machines():
        props = RESOURCES[logical_id]["Properties"]
        assert props["Tracing"] == {"Enabled": True}
        assert props["Logging"]["Level"] in ("ERROR", "ALL")
        group = props["Logging"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
        assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"


# ------------------------------------------------------ alarms and dashboard
def alarms():
    return {i: r["Properties"] for i, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _alarm_on(namespace, metric, dimension, value):
    return [i for i, p in alarms().items()
            if p["Namespace"] == namespace and p["MetricName"] == metric
            and p["Dimensions"] == [{"Name": dimension, "Value": value}]]


def test_alarms_cover_state_machines_queues_and_functions():
    for sm in state_machines():
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionThrottled"):
            assert _alarm_on("AWS/States", metric, "StateMachineArn", {"Ref": sm}), (sm, metric)
    for queue in ("TriggerDeadLetterQueue", "ScaleDownDeadLetterQueue"):
        assert _alarm_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
                         {"Fn::GetAtt": [queue, "QueueName"]}), queue
    for fn in functions():
        assert _alarm_on("AWS/Lambda", "Errors", "FunctionName", {"Ref": fn}), fn


def test_every_alarm_notifies_and_ignores_missing_data():
    assert alarms()
    for logical_id, props in alarms().items():
        assert props["AlarmActions"] == [{"Ref": "NotificationTopic"}], logical_id
        assert props["OKActions"] == [{"Ref": "NotificationTopic"}], logical_id
        assert props["TreatMissingData"] == "notBreaching", logical_id
        assert props["ComparisonOperator"] == "GreaterThanThreshold" and props["Threshold"] == 0, logical_id


def test_dashboard_shows_executions_outcomes_and_every_alarm():
    import json
    import re

    body_text = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    placeholders = set(re.findall(r"\$\{([^}]*)\}", body_text))
    body = json.loads(body_text)  # every ${...} sits inside a JSON string
    metrics = [m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]
    for sm in state_machines():
        for name in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"):
            assert ["AWS/States", name, "StateMachineArn", "${%s}" % sm] in metrics, (sm, name)
    emf = [m for m in metrics if m[0] == "AuroraOps"]
    assert all(m[2] == "Workflow" and m[4:6] == ["service", "aurora-ops"] for m in emf)
    assert {"ReadersCreated", "ReadersRemoved", "CapacityFallbacks", "SecondsToAvailable", "RestoresCompleted",
            "RestoreDurationSeconds", "WorkflowFailures", "NoAction"} <= {m[1] for m in emf}
    assert {"scale-up", "scale-down", "snapshot-restore", "failover", "restore-drill"} <= {m[3] for m in emf}
    assert {"OperationsCompleted", "OperationsRefused", "AvailableAfterSeconds", "DataLossWindowSeconds"} <= {m[1] for m in emf}
    assert placeholders - {f"{a}.Arn" for a in alarms()} == {"AWS::Region", *state_machines()}
    alarm_widgets = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widgets) == 1
    assert sorted(alarm_widgets[0]["properties"]["alarms"]) == sorted("${%s.Arn}" % a for a in alarms())


# ------------------------------------------------------------- parameters
def test_every_parameter_is_described_and_has_a_default():
    for name, param in DOC["Parameters"].items():
        assert param.get("Description"), name
        assert "Default" in param, name  # a tag-selected fleet needs no list at all


def test_outputs_name_the_operational_resources():
    values = [o["Value"] for o in DOC["Outputs"].values()]
    for logical_id in [*state_machines(), "NotificationTopic", "StateTable", "TriggerDeadLetterQueue",
                       "ScaleDownDeadLetterQueue", "Dashboard"]:
        assert {"Ref": logical_id} in values, logical_id
    assert any("Fn::Sub" in v and "#dashboards" in v["Fn::Sub"] for v in values if isinstance(v, dict))
