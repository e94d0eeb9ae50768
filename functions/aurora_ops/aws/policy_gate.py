"""The deploy-time gate (a CloudFormation custom resource every function waits
for): the deployed policy document must be valid and name by id exactly the
clusters ManagedClusterIds lets IAM create readers in. A mismatch fails the
deploy before any function or state machine changes, with one line naming it."""

from __future__ import annotations

import json
import urllib.request

from ..core.errors import InvalidPolicy
from ..core.policy import deployed_document, iam_list_mismatches


def problems(managed_cluster_ids: list[str]) -> list[str]:
    try:
        document = deployed_document()
    except InvalidPolicy as exc:
        return [str(exc)]
    return iam_list_mismatches(document, managed_cluster_ids)


def handler(event, context):
    """CloudFormation's custom resource protocol: answer the pre-signed URL, always."""
    found = [] if event["RequestType"] == "Delete" else problems(event["ResourceProperties"].get("ManagedClusterIds", []))
    reason = "; ".join(found)[:3000] or "the policy document and ManagedClusterIds agree"
    body = json.dumps({
        "Status": "FAILED" if found else "SUCCESS",
        "Reason": reason,
        "PhysicalResourceId": "aurora-ops-policy-gate",
        "StackId": event["StackId"], "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"],
    }).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - CloudFormation's pre-signed https URL
        answer.read()
    return {"status": "FAILED" if found else "SUCCESS", "reason": reason}
