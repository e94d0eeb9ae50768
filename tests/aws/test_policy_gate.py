"""The deploy gate: CloudFormation waits for its answer before any function changes."""

import json

import pytest

from aurora_ops.aws import policy_gate
from aurora_ops.core import policy

V2 = {"policies": {"oltp": {"max_readers": 6}}, "clusters": {"orders": "oltp", "billing": {"max_readers": 3}}}


@pytest.fixture
def answers(monkeypatch):
    sent = []

    class Answer:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return b""

    def urlopen(request, timeout):
        sent.append((request.full_url, request.get_method(), json.loads(request.data)))
        return Answer()

    monkeypatch.setattr(policy_gate.urllib.request, "urlopen", urlopen)
    policy._deployed.cache_clear()
    yield sent
    policy._deployed.cache_clear()


def event(kind="Update", ids=("orders", "billing")):
    return {"RequestType": kind, "ResponseURL": "https://cloudformation-custom-resource-response.example/x",
            "StackId": "stack", "RequestId": "r1", "LogicalResourceId": "PolicyGate",
            "ResourceProperties": {"ManagedClusterIds": list(ids)}}


def test_agreeing_lists_succeed(monkeypatch, answers):
    monkeypatch.setenv("POLICY_DOCUMENT", json.dumps(V2))
    assert policy_gate.handler(event(), None)["status"] == "SUCCESS"
    (url, method, body) = answers[0]
    assert method == "PUT" and body["Status"] == "SUCCESS" and body["LogicalResourceId"] == "PolicyGate"


@pytest.mark.parametrize("ids,expected", [
    (("orders",), "policy.clusters.billing: not in ManagedClusterIds"),
    (("orders", "billing", "payments"), "ManagedClusterIds: payments matches no cluster"),
    (("*",), None),  # a wildcard covers every named cluster
])
def test_a_mismatch_fails_the_deploy_naming_it(monkeypatch, answers, ids, expected):
    monkeypatch.setenv("POLICY_DOCUMENT", json.dumps(V2))
    result = policy_gate.handler(event(ids=ids), None)
    body = answers[0][2]
    if expected is None:
        assert body["Status"] == "SUCCESS"
    else:
        assert body["Status"] == "FAILED" and expected in body["Reason"] and result["status"] == "FAILED"


def test_an_invalid_document_fails_the_deploy_and_delete_always_succeeds(monkeypatch, answers):
    monkeypatch.setenv("POLICY_DOCUMENT", json.dumps({"orders": {"instance_classes": ["db.r6g.xlarg"]}}))
    policy_gate.handler(event(ids=("orders",)), None)
    assert answers[0][2]["Status"] == "FAILED" and "instance_classes[0]" in answers[0][2]["Reason"]
    policy_gate.handler(event("Delete"), None)
    assert answers[1][2]["Status"] == "SUCCESS"


def test_without_the_parameter_the_layer_file_is_the_document(monkeypatch, answers, tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"clusters": {"orders": {}}}))
    monkeypatch.setenv("POLICY_DOCUMENT", "")
    monkeypatch.setenv("POLICY_DOCUMENT_FILE", str(path))
    assert set(policy.deployed_document().clusters) == {"orders"}
    policy_gate.handler(event(ids=("orders",)), None)
    assert answers[0][2]["Status"] == "SUCCESS"
