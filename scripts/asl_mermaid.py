"""Draw a Step Functions state machine (an ASL file) as a Mermaid flowchart.

    python scripts/asl_mermaid.py statemachines/scale_up.asl.json     # print the flowchart
    python scripts/asl_mermaid.py --update docs/*.md                  # rewrite the generated blocks

Every state is a node (Task: rectangle, Choice: diamond, Wait: stadium, Pass:
parallelogram, Succeed and Fail: double circle), a Map's iterator (or a
Parallel's branches) is a subgraph named after the state. Edges: `Next` (solid),
a Choice's rules (labelled with the rule) and `Default`, `Catch` (dotted,
labelled with the errors caught). Retry rules are not drawn.

The docs paste the output into a ```mermaid block. Its first comment line names
the ASL file; `--update` regenerates every such block in the files given, and
tests/test_docs.py fails when one differs from what this script prints.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "%% generated from {path} by scripts/asl_mermaid.py; do not edit by hand"
# A mermaid fence whose first comment line is MARK: (whole block, ASL path).
BLOCK = re.compile(r"```mermaid\nflowchart TD\n    %% generated from (\S+\.asl\.json) by scripts/asl_mermaid\.py[^\n]*\n"
                   r"(?:(?!```)[^\n]*\n)*```")
_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "classdef", "click", "direction",
             "linkstyle", "default", "start"}
_OPERATORS = {
    "StringEquals": "=", "NumericEquals": "=", "BooleanEquals": "=", "TimestampEquals": "=",
    "StringLessThan": "#lt;", "NumericLessThan": "#lt;", "TimestampLessThan": "#lt;",
    "StringGreaterThan": "#gt;", "NumericGreaterThan": "#gt;", "TimestampGreaterThan": "#gt;",
    "StringLessThanEquals": "#lt;=", "NumericLessThanEquals": "#lt;=", "TimestampLessThanEquals": "#lt;=",
    "StringGreaterThanEquals": "#gt;=", "NumericGreaterThanEquals": "#gt;=",
    "TimestampGreaterThanEquals": "#gt;=", "StringMatches": "matches",
}


def _text(value) -> str:
    """A value inside a quoted Mermaid label (no double quotes there)."""
    text = json.dumps(value) if isinstance(value, bool | int | float) or value is None else str(value)
    return text.replace('"', "#quot;")


def _rule(rule: dict) -> str:
    """A Choice rule as a short label: `$.phase = available`, `$.outcome is not null`."""
    if "And" in rule or "Or" in rule:
        word = " and " if "And" in rule else " or "
        return word.join(f"({_rule(r)})" for r in rule.get("And", rule.get("Or")))
    if "Not" in rule:
        return f"not ({_rule(rule['Not'])})"
    if "Condition" in rule:  # JSONata
        return _text(rule["Condition"])
    variable = rule.get("Variable", "")
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment"):
            continue
        name = key.removesuffix("Path")
        shown = value if name == key else f"value of {value}"
        if name == "IsNull":
            return f"{variable} is {'' if value else 'not '}null"
        if name in ("IsPresent", "IsString", "IsNumeric", "IsBoolean", "IsTimestamp"):
            what = {"IsPresent": "present"}.get(name, name.removeprefix("Is").lower())
            return f"{variable} is {'' if value else 'not '}{what}"
        if name in _OPERATORS:
            return f"{variable} {_OPERATORS[name]} {_text(shown)}"
    return _text(json.dumps(rule, sort_keys=True))


def _errors(catcher: dict) -> str:
    errors = catcher["ErrorEquals"]
    return "any error" if errors == ["States.ALL"] else ", ".join(errors)


class _Drawing:
    def __init__(self):
        self.ids: dict[str, str] = {}
        self.lines: list[str] = []

    def node_id(self, scope: str, name: str) -> str:
        key = f"{scope}/{name}"
        if key not in self.ids:
            base = re.sub(r"\W", "_", name) or "state"
            if base.lower() in _RESERVED or base[0].isdigit():
                base = f"s_{base}"
            candidate, n = base, 2
            while candidate in self.ids.values():
                candidate, n = f"{base}_{n}", n + 1
            self.ids[key] = candidate
        return self.ids[key]

    def machine(self, states: dict, scope: str, indent: str) -> None:
        """Nodes (and subgraphs) first, then the edges of this level."""
        for name, state in states.items():
            self.state(name, state, scope, indent)
        for name, state in states.items():
            self.edges(name, state, scope, indent)

    def state(self, name: str, state: dict, scope: str, indent: str) -> None:
        node, kind = self.node_id(scope, name), state["Type"]
        if kind in ("Map", "Parallel"):
            over = ""
            if kind == "Map":
                items = state.get("ItemsPath") or state.get("Items") or "$"
                over = f": Map over {_text(items)}"
                if state.get("MaxConcurrency"):
                    over += f", at most {state['MaxConcurrency']} at once"
            else:
                over = f": Parallel, {len(state['Branches'])} branches"
            self.lines.append(f'{indent}subgraph {node}["{_text(name)}{over}"]')
            self.lines.append(f"{indent}    direction TB")
            inner = state.get("ItemProcessor") or state.get("Iterator")
            if inner:
                self.machine(inner["States"], f"{scope}/{name}", indent + "    ")
            for index, branch in enumerate(state.get("Branches", []), 1):
                branch_id = self.node_id(scope, f"{name} branch {index}")
                self.lines.append(f'{indent}    subgraph {branch_id}["branch {index}"]')
                self.machine(branch["States"], f"{scope}/{name}/{index}", indent + "        ")
                self.lines.append(f"{indent}    end")
            self.lines.append(f"{indent}end")
            return
        label = _text(name)
        if kind == "Wait":
            seconds = state.get("Seconds", state.get("SecondsPath", state.get("Timestamp", state.get("TimestampPath"))))
            label += f": {_text(seconds)}{' s' if 'Seconds' in state else ''}"
            shape = '(["{}"])'
        elif kind == "Fail" and "Error" in state:
            label += f": {_text(state['Error'])}"
            shape = '((("{}")))'
        else:
            shape = {"Task": '["{}"]', "Choice": '{{"{}"}}', "Pass": '[/"{}"/]',
                     "Succeed": '((("{}")))', "Fail": '((("{}")))'}.get(kind, '["{}"]')
        self.lines.append(f"{indent}{node}{shape.format(label)}")

    def edges(self, name: str, state: dict, scope: str, indent: str) -> None:
        node = self.node_id(scope, name)
        if "Next" in state:
            self.lines.append(f"{indent}{node} --> {self.node_id(scope, state['Next'])}")
        for rule in state.get("Choices", []):
            self.lines.append(f'{indent}{node} -->|"{_rule(rule)}"| {self.node_id(scope, rule["Next"])}')
        if "Default" in state:
            self.lines.append(f"{indent}{node} -->|default| {self.node_id(scope, state['Default'])}")
        for catcher in state.get("Catch", []):
            self.lines.append(f'{indent}{node} -.->|"{_errors(catcher)}"| {self.node_id(scope, catcher["Next"])}')


def flowchart(asl: dict, source: str) -> str:
    """The Mermaid flowchart of an ASL definition; `source` is named in its first comment."""
    drawing = _Drawing()
    drawing.lines += ["flowchart TD", "    " + MARK.format(path=source)]
    drawing.lines.append(f"    asl_start((start)) --> {drawing.node_id('', asl['StartAt'])}")
    drawing.machine(asl["States"], "", "    ")
    return "\n".join(drawing.lines) + "\n"


def flowchart_of(path: str | Path) -> str:
    """The flowchart of an ASL file, named by its path relative to the repository."""
    path = Path(path)
    absolute = path if path.is_absolute() else ROOT / path
    return flowchart(json.loads(absolute.read_text()), absolute.relative_to(ROOT).as_posix())


def generated_blocks(text: str) -> list[tuple[str, str, str]]:
    """Every generated block of a markdown text: (ASL path, block as written, block as it should be)."""
    return [(m.group(1), m.group(0), f"```mermaid\n{flowchart_of(m.group(1))}```") for m in BLOCK.finditer(text)]


def update(path: Path) -> bool:
    """Rewrite the generated blocks of a markdown file; True when it changed."""
    text = path.read_text()
    new = BLOCK.sub(lambda m: f"```mermaid\n{flowchart_of(m.group(1))}```", text)
    if new != text:
        path.write_text(new)
    return new != text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="ASL files to print, or markdown files with --update")
    parser.add_argument("--update", action="store_true", help="regenerate the marked blocks of these markdown files")
    args = parser.parse_args(argv)
    for name in args.files:
        if args.update:
            if update(Path(name)):
                print(f"updated {name}", file=sys.stderr)
        else:
            sys.stdout.write(flowchart_of(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
