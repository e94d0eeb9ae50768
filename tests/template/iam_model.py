"""template.yaml's IAM as AWS would evaluate it, for the IAM checks.

Two halves:
* `Deployment`: the template's policy statements with every intrinsic resolved
  for one set of stack parameters (an account, a region, real ARNs), per role.
* `is_allowed`: does a list of statements allow one authorization request
  (action, resource ARN, request context)? Only what the template uses is
  modelled: Allow statements (a Deny fails the check: none is expected),
  Action/Resource wildcards, and the condition operators String*, Arn*, Bool,
  Null, with ForAnyValue:/ForAllValues: and ...IfExists. A missing key fails a
  condition except under ForAllValues: or IfExists, as in IAM's evaluation
  logic (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from aurora_ops_sim.template import load_template

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
STACK = "aurora-ops"
NO_VALUE = object()

TEMPLATE = load_template(Path("template.yaml"))


def default_parameters() -> dict:
    params = {}
    for name, spec in TEMPLATE["Parameters"].items():
        value = spec.get("Default", "")
        if spec["Type"] == "CommaDelimitedList":
            value = [v for v in str(value).split(",")] if value != "" else [""]
        params[name] = value
    return params


@dataclass
class Deployment:
    """The template deployed with `parameters` (defaults for the rest)."""

    parameters: dict = field(default_factory=dict)
    table_name: str = "StateTable"
    topic_arn: str = f"arn:aws:sns:{REGION}:{ACCOUNT}:NotificationTopic"
    account: str = ACCOUNT
    region: str = REGION

    def __post_init__(self):
        self.parameters = {**default_parameters(), **self.parameters}

    # ------------------------------------------------------------ resolution
    def ref(self, name: str):
        pseudo = {"AWS::AccountId": self.account, "AWS::Region": self.region, "AWS::Partition": PARTITION,
                  "AWS::StackName": STACK, "AWS::NoValue": NO_VALUE}
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        kind = TEMPLATE["Resources"][name]["Type"]
        refs = {
            "AWS::SNS::Topic": self.topic_arn,
            "AWS::DynamoDB::Table": self.table_name,
            "AWS::KMS::Key": "notification-key-id",
            "AWS::Serverless::StateMachine": f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}",
            "AWS::Serverless::Function": name,
            "AWS::SQS::Queue": f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}",
        }
        return refs[kind]

    def get_att(self, name: str, attribute: str) -> str:
        kind = TEMPLATE["Resources"][name]["Type"]
        arns = {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.table_name}",
            "AWS::KMS::Key": f"arn:aws:kms:{self.region}:{self.account}:key/notification-key-id",
            "AWS::SQS::Queue": f"arn:aws:sqs:{self.region}:{self.account}:{name}",
            "AWS::Serverless::Function": f"arn:aws:lambda:{self.region}:{self.account}:function:{name}",
            "AWS::Serverless::StateMachine": f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}:*",
        }
        if attribute in ("QueueName", "Name"):  # a queue's or a state machine's name: its logical id here
            return name
        assert attribute == "Arn", (name, attribute)
        return arns[kind]

    def condition(self, name: str) -> bool:
        return bool(self.resolve(TEMPLATE["Conditions"][name]))

    def resolve(self, node):
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.get_att(*arg)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                parts = self.resolve(arg[1])
                flat = [p for part in parts for p in (part if isinstance(part, list) else [part])]
                return self.resolve(arg[0]).join(flat)
            if key == "Fn::Split":
                return self.resolve(arg[1]).split(arg[0])
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                left, right = self.resolve(arg[0]), self.resolve(arg[1])
                return left == right
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(a) for a in arg)
            if key == "Fn::Or":
                return any(self.resolve(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
        resolved = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _sub(self, arg) -> str:
        text, names = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        values = {k: self.resolve(v) for k, v in names.items()}

        def replace(match):
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name:
                return self.get_att(*name.split(".", 1))
            value = self.ref(name)
            return ",".join(value) if isinstance(value, list) else str(value)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    # ------------------------------------------------------------- policies
    def role_statements(self, logical_id: str) -> list[dict]:
        """Every statement of the role of a function, state machine or AWS::IAM::Role."""
        resource = TEMPLATE["Resources"][logical_id]
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        else:
            documents = [p for p in props.get("Policies") or [] if isinstance(p, dict) and "Statement" in p]
            documents += [_sam_policy_template(p) for p in props.get("Policies") or []
                          if isinstance(p, dict) and "LambdaInvokePolicy" in p]
        statements = []
        for document in documents:
            resolved = self.resolve(document)
            statements += as_list(resolved["Statement"])
        return statements

    def roles(self) -> list[str]:
        kinds = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine", "AWS::IAM::Role")
        return [i for i, r in TEMPLATE["Resources"].items() if r["Type"] in kinds]

    def resource_policies(self) -> list[tuple[str, dict]]:
        """(where, statement) of the queue policies and key policies."""
        found = []
        for logical_id, resource in TEMPLATE["Resources"].items():
            props = resource.get("Properties", {})
            if resource.get("Condition") and not self.condition(resource["Condition"]):
                continue
            document = props.get("PolicyDocument") or props.get("KeyPolicy")
            if resource["Type"] in ("AWS::SQS::QueuePolicy", "AWS::KMS::Key") and document:
                for statement in as_list(self.resolve(document)["Statement"]):
                    found.append((logical_id, statement))
        return found


def _sam_policy_template(policy: dict) -> dict:
    """SAM's LambdaInvokePolicy policy template, as SAM expands it."""
    function = policy["LambdaInvokePolicy"]["FunctionName"]
    return {"Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                           "Resource": [{"Fn::Sub": ["arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${name}",
                                                     {"name": function}]},
                                        {"Fn::Sub": ["arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${name}:*",
                                                     {"name": function}]}]}]}


def as_list(value):
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------ evaluation
@dataclass(frozen=True)
class Request:
    """One authorization AWS makes for a call: an action on one resource."""

    action: str  # service:Action
    resource: str  # an ARN (`*` in the name part: a call that names none)
    context: dict  # condition key (any case) -> value or list of values
    why: str = ""  # which call and parameter asks for it

    def value(self, key: str):
        lowered = {k.lower(): v for k, v in self.context.items()}
        return lowered.get(key.lower())


@cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_wildcard(pattern, ignore_case).match(value))


def _compare(operator: str, expected: str, actual) -> bool:
    actual = str(actual).lower() if operator.startswith("Bool") else str(actual)
    if operator in ("StringEquals", "ArnEquals"):
        return actual == expected
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if operator in ("StringLike", "ArnLike"):
        return wildcard_match(expected, actual)
    if operator == "StringNotEquals":
        return actual != expected
    if operator == "StringNotLike":
        return not wildcard_match(expected, actual)
    if operator == "Bool":
        return actual == str(expected).lower()
    raise AssertionError(f"operator {operator} is not modelled")


def _condition_holds(operator: str, key: str, expected, request: Request) -> bool:
    qualifier, _, operator = operator.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    actual = request.value(key)
    expected = [str(e) if not isinstance(e, bool) else str(e).lower() for e in as_list(expected)]
    if operator == "Null":
        return (actual is None) == (expected[0] == "true")
    if actual is None:
        return qualifier == "ForAllValues" or if_exists
    values = as_list(actual)
    negated = operator.startswith("StringNot")
    if qualifier == "ForAllValues":
        return all(any(_compare(operator, e, v) for e in expected) for v in values)
    if qualifier == "ForAnyValue" or len(values) == 1:
        if negated:  # StringNotEquals: no expected value matches
            return all(all(_compare(operator, e, v) for e in expected) for v in values)
        return any(_compare(operator, e, v) for e in expected for v in values)
    raise AssertionError(f"{key}: several values need ForAnyValue:/ForAllValues:")


def statement_allows(statement: dict, request: Request) -> bool:
    assert "NotAction" not in statement and "NotResource" not in statement, statement
    if not any(wildcard_match(a, request.action, ignore_case=True) for a in as_list(statement["Action"])):
        return False
    if not any(wildcard_match(r, request.resource) for r in as_list(statement["Resource"])):
        return False
    return all(_condition_holds(op, key, expected, request)
               for op, keys in statement.get("Condition", {}).items() for key, expected in keys.items())


def is_allowed(statements: list[dict], request: Request) -> bool:
    assert all(s["Effect"] == "Allow" for s in statements), "a Deny statement is not modelled"
    return any(statement_allows(s, request) for s in statements)
