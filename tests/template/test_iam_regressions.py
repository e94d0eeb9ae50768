"""The IAM checks fail if any finding of the AWS-truth review came back.

Each case puts the old statement back (or takes the fix out) in the deployed
roles and shows which check then reports it: the recorded calls that AWS would
deny (test_iam_calls.denied) or a forbidden request a role would allow
(test_iam_data.allowed_probes)."""

from __future__ import annotations

import pytest

from iam_model import ACCOUNT, Deployment
from test_iam_calls import all_calls, denied
from test_iam_data import allowed_probes

RDS_ARN = f"arn:aws:rds:*:{ACCOUNT}"


def without(sid):
    return lambda role, statements: [s for s in statements if s.get("Sid") != sid]


def plus(role_name, statement):
    return lambda role, statements: statements + ([statement] if role == role_name else [])


def passed_to(service):
    def mutate(role, statements):
        for s in statements:
            if s.get("Sid") == "EnhancedMonitoringRolesTheStackIsToldAbout":
                s["Condition"] = {"StringEquals": {"iam:PassedToService": service}}
        return statements
    return mutate


DENIED_AGAIN = {  # AWS would deny a call the code makes
    "ModifyDBCluster(ManageMasterUserPassword) without kms:DescribeKey": without("RdsManagedSecretKey"),
    "a reader keeping a customer managed Performance Insights key": without("PerformanceInsightsKeyOfTheWriter"),
    "PassRole only to monitoring.rds.amazonaws.com": passed_to("monitoring.rds.amazonaws.com"),
}
ALLOWED_AGAIN = {  # a role could do what no role may
    "an unconditioned CopyDBClusterSnapshot statement": plus("SnapshotRestoreCopySnapshotFunction", {
        "Effect": "Allow", "Action": ["rds:CopyDBClusterSnapshot"], "Resource": f"{RDS_ARN}:cluster-snapshot:*"}),
    "restore tagging any cluster as its own": plus("SnapshotRestoreRestoreClusterFunction", {
        "Effect": "Allow", "Action": ["rds:RestoreDBClusterFromSnapshot", "rds:AddTagsToResource"],
        "Resource": f"{RDS_ARN}:cluster:*",
        "Condition": {"StringLike": {"aws:RequestTag/aurora-ops:created-by": "*"}}}),
    "restore tagging any instance as its own": plus("SnapshotRestoreCreateInstanceFunction", {
        "Effect": "Allow", "Action": ["rds:CreateDBInstance", "rds:AddTagsToResource"], "Resource": f"{RDS_ARN}:db:*",
        "Condition": {"StringLike": {"aws:RequestTag/aurora-ops:created-by": "*"}}}),
    "CreateDBInstance for any engine": plus("ScaleUpCreateReaderFunction", {
        "Effect": "Allow", "Action": ["rds:CreateDBInstance"], "Resource": f"{RDS_ARN}:db:*-aops-*",
        "Condition": {"StringLike": {"aws:RequestTag/aurora-ops:created-by": "*"}}}),
    "deleting any snapshot that carries the tag (a restored cluster's own snapshots)": plus(
        "SnapshotRestoreFinalizeFunction", {
            "Effect": "Allow", "Action": ["rds:DeleteDBClusterSnapshot"], "Resource": f"{RDS_ARN}:cluster-snapshot:*",
            "Condition": {"StringLike": {"aws:ResourceTag/aurora-ops:created-by": "*"}}}),
    "iam:PassRole on role/*": plus("ScaleUpCreateReaderFunction", {
        "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
        "Condition": {"StringEquals": {"iam:PassedToService": ["monitoring.rds.amazonaws.com", "rds.amazonaws.com"]}}}),
}


@pytest.mark.parametrize("finding", DENIED_AGAIN)
def test_a_denial_that_came_back_fails_the_call_check(finding):
    assert not denied(all_calls(), {})
    assert denied(all_calls(), {}, mutate=DENIED_AGAIN[finding])


@pytest.mark.parametrize("finding", ALLOWED_AGAIN)
def test_a_privilege_that_came_back_fails_the_probes(finding):
    deployment = Deployment(parameters={"ManagedClusterIds": ["orders"]})
    assert not allowed_probes(deployment)
    assert allowed_probes(deployment, mutate=ALLOWED_AGAIN[finding])
