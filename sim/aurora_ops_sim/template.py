"""Just enough of template.yaml for the simulator: which handler serves each
`${...}` of a state machine and which environment each function gets."""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import yaml


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path) -> dict:
    return copy.deepcopy(_parsed(str(Path(path).resolve()), Path(path).stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _parsed(path: str, mtime_ns: int) -> dict:
    """Parsing template.yaml takes ~0.8 s: once per file version, not once per simulation."""
    return yaml.load(Path(path).read_text(), Loader=_CfnLoader)


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler: str  # module.function
    environment: dict  # name -> CloudFormation value (literal or intrinsic)


@dataclass(frozen=True)
class StateMachine:
    logical_id: str
    definition: str  # the ASL text, substitutions not yet applied
    substitutions: dict  # name -> CloudFormation value
    type: str  # STANDARD or EXPRESS


class Template:
    def __init__(self, root: Path):
        self.root = root
        self.doc = load_template(root / "template.yaml")
        self.resources = self.doc["Resources"]
        globals_env = (
            self.doc.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        self.functions = {
            logical_id: Function(
                logical_id,
                resource["Properties"]["Handler"],
                {**globals_env, **resource["Properties"].get("Environment", {}).get("Variables", {})},
            )
            for logical_id, resource in self.resources.items()
            if resource["Type"] == "AWS::Serverless::Function"
        }

    @staticmethod
    def shared(root: Path) -> "Template":
        """One Template per file version, for simulations, which only read it."""
        path = Path(root) / "template.yaml"
        return _shared(Path(root), path.stat().st_mtime_ns)

    def state_machine(self, asl_file: str) -> StateMachine:
        for logical_id, resource in self.resources.items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Serverless::StateMachine" and props.get("DefinitionUri") == asl_file:
                text = (self.root / asl_file).read_text()
                json.loads(text)  # the shipped file must be plain JSON
                return StateMachine(logical_id, text, props.get("DefinitionSubstitutions", {}),
                                    props.get("Type", "STANDARD"))
        raise KeyError(f"template.yaml has no state machine with DefinitionUri {asl_file}")

    def parameter_default(self, name: str) -> str | None:
        return self.doc.get("Parameters", {}).get(name, {}).get("Default")


@functools.lru_cache(maxsize=8)
def _shared(root: Path, mtime_ns: int) -> Template:
    return Template(root)
