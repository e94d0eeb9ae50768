#!/usr/bin/env python3
"""Check that the state machines' DefinitionSubstitutions match their ASL files.

For every AWS::Serverless::StateMachine in the template whose DefinitionUri is a
local file:

* every ``${Name}`` placeholder in that file must have an entry in the state
  machine's DefinitionSubstitutions, and
* every DefinitionSubstitutions entry must be used in the file.

Also every ``statemachines/*.asl.json`` file must be the DefinitionUri of some
state machine, and every DefinitionUri must exist.

Usage:
    check_substitutions.py [--template template.yaml] [--asl-glob 'statemachines/*.asl.json']
    check_substitutions.py --self-test

Exits 0 when everything matches, 1 listing each problem otherwise (2 on usage
or parse errors).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


from aurora_ops_sim.template import load_template  # noqa: E402  (the simulator reads the template the same way)


# -------------------------------------------------------------------- check


def check(template_path: Path, asl_glob: str) -> list[str]:
    """Return the list of problems (empty when everything matches)."""
    problems: list[str] = []
    base = template_path.parent
    doc = load_template(template_path)
    resources = doc.get("Resources") or {}

    referenced: set[Path] = set()
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::StateMachine":
            continue
        props = resource.get("Properties") or {}
        uri = props.get("DefinitionUri")
        substitutions = props.get("DefinitionSubstitutions") or {}
        if uri is None:
            if "Definition" not in props:
                problems.append(f"{logical_id}: has neither DefinitionUri nor Definition")
            continue
        if not isinstance(uri, str):
            # An S3 location (Bucket/Key) cannot be checked locally.
            problems.append(f"{logical_id}: DefinitionUri is not a local file path: {uri!r}")
            continue
        asl_path = (base / uri).resolve()
        referenced.add(asl_path)
        if not asl_path.is_file():
            problems.append(f"{logical_id}: DefinitionUri {uri} does not exist")
            continue
        text = asl_path.read_text(encoding="utf-8")
        used = set(PLACEHOLDER.findall(text))
        defined = set(substitutions)
        for name in sorted(used - defined):
            problems.append(f"{logical_id}: {uri} uses ${{{name}}} but DefinitionSubstitutions has no {name}")
        for name in sorted(defined - used):
            problems.append(f"{logical_id}: DefinitionSubstitutions entry {name} is not used in {uri}")

    pattern = asl_glob if os.path.isabs(asl_glob) else str(base / asl_glob)
    asl_files = sorted(Path(p).resolve() for p in glob.glob(pattern))
    for asl_path in asl_files:
        if asl_path not in referenced:
            problems.append(f"{os.path.relpath(asl_path, base)}: not the DefinitionUri of any state machine")
    return problems


# ---------------------------------------------------------------- self-test

_SELF_TEST_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Ids: {Type: CommaDelimitedList, Default: "a,b"}
Conditions:
  HasIds: !Not [!Equals [!Join ["", !Ref Ids], ""]]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [rds:CreateDBInstance]
              Resource: !Split [",", !Sub "arn:${AWS::Partition}:rds:::cluster:x"]
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachines/one.asl.json
      DefinitionSubstitutions:
        FirstArn: !GetAtt Fn.Arn
        SecondArn: !GetAtt Fn.Arn
"""

_SELF_TEST_ASL = (
    '{"StartAt": "A", "States": {'
    '"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",'
    ' "Parameters": {"FunctionName": "${FirstArn}"}, "Next": "B"},'
    '"B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",'
    ' "Parameters": {"FunctionName": "${SecondArn}"}, "End": true}}}'
)


def self_test() -> int:
    cases = {
        "good": (lambda t, a: (t, a), 0),
        "missing substitution": (lambda t, a: (t.replace("        SecondArn: !GetAtt Fn.Arn\n", ""), a), 1),
        "unused substitution": (lambda t, a: (t + "        ThirdArn: !GetAtt Fn.Arn\n", a), 1),
        "unreferenced ASL file": (lambda t, a: (t, a), 1),  # plus an extra file, below
        "missing ASL file": (lambda t, a: (t.replace("one.asl.json", "gone.asl.json"), a), 1),
    }
    failures = 0
    for name, (mutate, expected) in cases.items():
        tmp = Path(tempfile.mkdtemp(prefix="check-subs-"))
        try:
            template, asl = mutate(_SELF_TEST_TEMPLATE, _SELF_TEST_ASL)
            (tmp / "statemachines").mkdir()
            (tmp / "template.yaml").write_text(template)
            (tmp / "statemachines" / "one.asl.json").write_text(asl)
            if name == "unreferenced ASL file":
                (tmp / "statemachines" / "two.asl.json").write_text(asl)
            problems = check(tmp / "template.yaml", "statemachines/*.asl.json")
            got = 1 if problems else 0
            status = "ok" if got == expected else "FAIL"
            failures += status == "FAIL"
            print(f"self-test {status}: {name}: expected exit {expected}, got {got} {problems}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("self-test passed" if not failures else f"self-test: {failures} case(s) failed")
    return 1 if failures else 0


# --------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="template.yaml", type=Path)
    parser.add_argument("--asl-glob", default="statemachines/*.asl.json")
    parser.add_argument("--self-test", action="store_true", help="check the checker on built-in broken cases")
    args = parser.parse_args(argv)

    if args.self_test:
        return self_test()
    try:
        problems = check(args.template, args.asl_glob)
    except (OSError, yaml.YAMLError, ValueError) as error:
        print(f"check_substitutions: cannot read the template: {error}", file=sys.stderr)
        return 2
    if problems:
        for problem in problems:
            print(f"check_substitutions: {problem}", file=sys.stderr)
        print(f"check_substitutions: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_substitutions: DefinitionSubstitutions match the ASL files ({args.template})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
