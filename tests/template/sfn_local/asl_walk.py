"""A small, strict walker of the subset of ASL (JSONPath mode) that the aurora-ops
state machines use, driven by a Step Functions Local mock-config test case.

It exists so that the mock config can be checked where Docker cannot run:
every Task reached must have a mocked response for that very invocation, every
Choice must route on fields that are present (as in Step Functions, a missing
Variable is a States.Runtime error), every Wait must get a small integer, and
the walk must end in a Succeed state. It is not a Step Functions emulator:
Retry/Catch, intrinsic functions, timeouts and concurrency are out of scope
(a happy path needs none of them); anything unexpected raises WalkError."""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass, field

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
MAX_TRANSITIONS = 500
MAX_WAIT_SECONDS = 2  # the container run must stay quick


class WalkError(AssertionError):
    pass


_MISSING = object()


def _get(document: object, path: str, context: dict) -> object:
    """`$`, `$.a.b[0]`, `$$.Execution.Name` ... or _MISSING."""
    if path.startswith("$$"):
        node, rest = context, path[2:]
    elif path.startswith("$"):
        node, rest = document, path[1:]
    else:
        raise WalkError(f"not a path: {path!r}")
    for name, index in re.findall(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]", rest):
        if name:
            if not isinstance(node, dict) or name not in node:
                return _MISSING
            node = node[name]
        else:
            if not isinstance(node, list) or int(index) >= len(node):
                return _MISSING
            node = node[int(index)]
    consumed = "".join(f".{n}" if n else f"[{i}]" for n, i in re.findall(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]", rest))
    if consumed != rest:
        raise WalkError(f"unsupported path syntax: {path!r}")
    return node


def _require(document: object, path: str, context: dict, where: str) -> object:
    value = _get(document, path, context)
    if value is _MISSING:
        raise WalkError(f"{where}: path {path} does not exist in {_short(document)}")
    return value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "..."


def _parameters(template: object, document: object, context: dict, where: str) -> object:
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str) or value.startswith("States."):
                    raise WalkError(f"{where}: intrinsic functions are not supported by the walker ({value!r})")
                out[key[:-2]] = copy.deepcopy(_require(document, value, context, where))
            else:
                out[key] = _parameters(value, document, context, where)
        return out
    if isinstance(template, list):
        return [_parameters(v, document, context, where) for v in template]
    return copy.deepcopy(template)


def _set(document: object, path: str | None, result: object, where: str) -> object:
    """ResultPath."""
    if path is None:
        return document
    if path == "$":
        return result
    if not path.startswith("$.") or not isinstance(document, dict):
        raise WalkError(f"{where}: unsupported ResultPath {path!r}")
    out = copy.deepcopy(document)
    node, names = out, path[2:].split(".")
    for name in names[:-1]:
        node = node.setdefault(name, {})
    node[names[-1]] = result
    return out


def _select(document: object, path: str | None, context: dict, where: str) -> object:
    """InputPath / OutputPath (null means {})."""
    if path is None:
        return {}
    return _require(document, path, context, where)


@dataclass
class Walk:
    """The result: the Succeed output and what ran."""
    output: object
    end_state: str
    task_invocations: Counter = field(default_factory=Counter)  # state name -> times invoked
    states_entered: list = field(default_factory=list)
    mocks_used: dict = field(default_factory=dict)  # mocked response name -> set of invocation keys used


class Walker:
    def __init__(self, definition: dict, test_case: dict, mocked_responses: dict, execution_name: str):
        self.definition = definition
        self.test_case = test_case
        self.mocked = mocked_responses
        self.context = {"Execution": {"Name": execution_name, "Id": f"arn:local:execution:{execution_name}"}}
        self.invocations = Counter()
        self.entered = []
        self.mocks_used = {}
        self.transitions = 0

    def run(self, execution_input: object) -> Walk:
        output, end = self._machine(self.definition, copy.deepcopy(execution_input), self.context)
        if self.definition["States"][end]["Type"] != "Succeed":
            raise WalkError(f"the walk ended in {end} ({self.definition['States'][end]['Type']}), not a Succeed state")
        return Walk(output, end, self.invocations, self.entered, self.mocks_used)

    # ------------------------------------------------------------------ machine
    def _machine(self, machine: dict, document: object, context: dict) -> tuple[object, str]:
        states, name = machine["States"], machine["StartAt"]
        while True:
            self.transitions += 1
            if self.transitions > MAX_TRANSITIONS:
                raise WalkError(f"more than {MAX_TRANSITIONS} transitions: the mocks loop forever")
            state = states[name]
            self.entered.append(name)
            kind = state["Type"]
            effective = _select(document, state.get("InputPath", "$"), context, name) if kind not in ("Fail",) else document
            if kind == "Task":
                result = self._task(name, state, effective, context)
                document = self._output(name, state, document, result, context)
            elif kind == "Map":
                result = self._map(name, state, effective, context)
                document = self._output(name, state, document, result, context)
            elif kind == "Pass":
                result = (_parameters(state["Parameters"], effective, context, name) if "Parameters" in state
                          else copy.deepcopy(state.get("Result", effective)))
                document = self._output(name, state, document, result, context)
            elif kind == "Wait":
                self._wait(name, state, effective, context)
                document = _select(effective, state.get("OutputPath", "$"), context, name)
            elif kind == "Choice":
                nxt = self._choice(name, state, effective, context)
                document = _select(effective, state.get("OutputPath", "$"), context, name)
                name = nxt
                continue
            elif kind == "Succeed":
                return _select(effective, state.get("OutputPath", "$"), context, name), name
            elif kind == "Fail":
                return document, name
            else:
                raise WalkError(f"{name}: state type {kind} is not supported by the walker")
            if state.get("End"):
                return document, name
            name = state["Next"]

    def _output(self, name: str, state: dict, raw_input: object, result: object, context: dict) -> object:
        if "ResultSelector" in state:
            result = _parameters(state["ResultSelector"], result, context, name)
        combined = _set(raw_input, state.get("ResultPath", "$"), result, name)
        return _select(combined, state.get("OutputPath", "$"), context, name)

    # -------------------------------------------------------------------- states
    def _task(self, name: str, state: dict, effective: object, context: dict) -> object:
        if state.get("Resource") != LAMBDA_INVOKE:
            raise WalkError(f"{name}: only {LAMBDA_INVOKE} Tasks are expected, found {state.get('Resource')}")
        if "Parameters" in state:
            _parameters(state["Parameters"], effective, context, name)  # every path the Task reads must exist
        invocation = self.invocations[name]
        self.invocations[name] += 1
        response_name = self.test_case.get(name)
        if response_name is None:
            raise WalkError(f"Task {name} is reached (invocation {invocation}) but the test case does not mock it:"
                            " Step Functions Local would call the real Lambda")
        responses = self.mocked.get(response_name)
        if responses is None:
            raise WalkError(f"Task {name}: mocked response {response_name} is not defined")
        key, response = _response_for(responses, invocation)
        if response is None:
            raise WalkError(f"Task {name}: mocked response {response_name} has nothing for invocation {invocation}")
        self.mocks_used.setdefault(response_name, set()).add(key)
        if "Throw" in response:
            raise WalkError(f"Task {name}: invocation {invocation} throws {response['Throw']}; not a happy path")
        return copy.deepcopy(response["Return"])

    def _map(self, name: str, state: dict, effective: object, context: dict) -> list:
        items = _require(effective, state.get("ItemsPath", "$"), context, name)
        if not isinstance(items, list):
            raise WalkError(f"{name}: ItemsPath {state.get('ItemsPath')} is not an array: {_short(items)}")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        selector = state.get("ItemSelector", state.get("Parameters"))
        results = []
        for index, item in enumerate(items):
            item_context = {**context, "Map": {"Item": {"Index": index, "Value": item}}}
            item_input = _parameters(selector, effective, item_context, name) if selector is not None else item
            output, end = self._machine(processor, item_input, item_context)
            if processor["States"][end]["Type"] == "Fail":
                raise WalkError(f"{name}: iteration {index} ended in Fail state {end}")
            results.append(output)
        return results

    def _wait(self, name: str, state: dict, effective: object, context: dict) -> None:
        if "SecondsPath" in state:
            seconds = _require(effective, state["SecondsPath"], context, name)
        elif "Seconds" in state:
            seconds = state["Seconds"]
        else:
            raise WalkError(f"{name}: only Seconds/SecondsPath waits are supported by the walker")
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise WalkError(f"{name}: wait seconds {seconds!r} is not a non-negative integer")
        if seconds > MAX_WAIT_SECONDS:
            raise WalkError(f"{name}: waits {seconds}s; keep mocked wait_seconds <= {MAX_WAIT_SECONDS}")

    def _choice(self, name: str, state: dict, effective: object, context: dict) -> str:
        for rule in state["Choices"]:
            if _rule(rule, effective, context, name):
                return rule["Next"]
        if "Default" not in state:
            raise WalkError(f"{name}: no choice matched and there is no Default (States.NoChoiceMatched)")
        return state["Default"]


def _rule(rule: dict, document: object, context: dict, where: str) -> bool:
    if "And" in rule:
        return all(_rule(r, document, context, where) for r in rule["And"])
    if "Or" in rule:
        return any(_rule(r, document, context, where) for r in rule["Or"])
    if "Not" in rule:
        return not _rule(rule["Not"], document, context, where)
    variable = rule["Variable"]
    value = _get(document, variable, context)
    if "IsPresent" in rule:
        return (value is not _MISSING) == rule["IsPresent"]
    if value is _MISSING:  # Step Functions: States.Runtime, the execution fails
        raise WalkError(f"{where}: Choice Variable {variable} does not exist in {_short(document)}")
    if "IsNull" in rule:
        return (value is None) == rule["IsNull"]
    if "StringEquals" in rule:
        return isinstance(value, str) and value == rule["StringEquals"]
    if "BooleanEquals" in rule:
        return isinstance(value, bool) and value == rule["BooleanEquals"]
    if "NumericEquals" in rule:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value == rule["NumericEquals"]
    raise WalkError(f"{where}: unsupported choice rule {rule}")


def invocation_keys(key: str) -> range:
    """'3' -> range(3, 4); '1-2' -> range(1, 3) (the mock config's key forms)."""
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", key)
    if not match:
        raise WalkError(f"invalid invocation key {key!r}: use \"N\" or \"N-M\"")
    low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    if high < low:
        raise WalkError(f"invalid invocation range {key!r}")
    return range(low, high + 1)


def _response_for(responses: dict, invocation: int) -> tuple[str | None, dict | None]:
    for key, response in responses.items():
        if invocation in invocation_keys(key):
            return key, response
    return None, None


def all_states(machine: dict, prefix: str = "") -> dict:
    """Every state, nested Map/Parallel states included: name -> state."""
    found = {}
    for name, state in machine["States"].items():
        found[name] = state
        for sub in [state.get("ItemProcessor") or state.get("Iterator")] + state.get("Branches", []):
            if sub:
                found.update(all_states(sub))
    return found
