"""The layout is the architecture (docs/architecture.md): these checks keep it so.

Layers import downwards only: workflows -> shared -> aws -> core; a wing never
imports another wing; decisions are pure; every wing reads alike; every
state machine has its wing, its handlers in the template and its tests."""

import ast
import json
from pathlib import Path

import pytest

from aurora_ops_sim.template import Template

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "functions" / "aurora_ops"
SIMULATOR = ROOT / "sim" / "aurora_ops_sim"
WINGS = sorted(p.name for p in (PACKAGE / "workflows").iterdir() if (p / "__init__.py").exists())
WING_FILES = ("__init__.py", "handlers.py", "steps.py", "decisions.py", "schemas/input.json")
MAX_SIMULATOR_MODULE_LINES = 300


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    return _imports_in(path.read_text(), _module_name(path), path.name == "__init__.py")


def _imports_in(source: str, module: str, is_package: bool) -> set[str]:
    """Absolute names of the aurora_ops modules (or packages) a module imports."""
    package = module if is_package else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.update(f"{name}.{alias.name}" for alias in node.names)  # `from pkg import module`
            found.add(name)
    return {name for name in found if name == "aurora_ops" or name.startswith("aurora_ops.")}


def _layer(name: str) -> str:
    parts = name.split(".")
    if len(parts) < 2:
        return "root"
    if parts[1] == "workflows":
        return f"workflows.{parts[2]}" if len(parts) > 2 else "workflows"
    return parts[1]


ALLOWED = {  # layer -> the layers it may import
    "core": {"core"},
    "aws": {"core", "aws"},
    "shared": {"core", "aws", "shared"},
    **{f"workflows.{wing}": {"core", "aws", "shared", f"workflows.{wing}"} for wing in WINGS},
}


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if _layer(_module_name(p)) in ALLOWED)


def test_the_walk_sees_every_layer_and_wing():
    layers = {_layer(_module_name(p)) for p in _modules()}
    assert layers == set(ALLOWED)
    assert set(WINGS) == {"scale_up", "scale_down", "snapshot_restore", "failover", "restore_drill", "dr_readiness"}


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_its_own_layer_and_those_below(path):
    layer = _layer(_module_name(path))
    wrong = {name for name in _imports(path)
             if _layer(name) not in ALLOWED[layer] and _layer(name) not in ("root", "workflows")}
    assert not wrong, f"{path.relative_to(ROOT)} ({layer}) imports {sorted(wrong)}"
    assert "aurora_ops" not in _imports(path), f"{path.relative_to(ROOT)}: import from a layer, not the root"


@pytest.mark.parametrize("module,source,offender", [
    ("aurora_ops.workflows.scale_down.steps", "from ..scale_up import steps", "workflows.scale_up"),
    ("aurora_ops.workflows.scale_down.steps", "from aurora_ops.workflows.snapshot_restore.decisions import x",
     "workflows.snapshot_restore"),
    ("aurora_ops.aws.rds", "from ..shared import capacity", "shared"),
    ("aurora_ops.core.policy", "from ..aws import rds", "aws"),
])
def test_the_import_check_catches_an_upward_or_sideways_import(module, source, offender):
    """The check above can fail: each of these imports breaks the layering."""
    allowed = ALLOWED[_layer(module)]
    assert offender in {_layer(n) for n in _imports_in(source, module, False) if _layer(n) not in allowed}


@pytest.mark.parametrize("wing", WINGS)
def test_decisions_are_pure(wing):
    decisions = PACKAGE / "workflows" / wing / "decisions.py"
    tree = ast.parse(decisions.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {n for n in names if n.startswith(("boto", "aws", "botocore")) or ".aws" in n or n == "aws"}, names
    assert not any(_layer(n) in ("aws", "shared") for n in _imports(decisions))


@pytest.mark.parametrize("wing", WINGS)
def test_every_wing_reads_alike(wing):
    for name in WING_FILES:
        assert (PACKAGE / "workflows" / wing / name).is_file(), f"workflows/{wing}/{name} is missing"
    json.loads((PACKAGE / "workflows" / wing / "schemas" / "input.json").read_text())


def test_every_state_machine_has_its_wing_its_handlers_and_its_tests():
    template = Template(ROOT)
    machines = sorted(p.name.removesuffix(".asl.json") for p in (ROOT / "statemachines").glob("*.asl.json"))
    assert machines == WINGS
    for wing in machines:
        assert (ROOT / "tests" / wing).is_dir(), f"tests/{wing}/ is missing"
    for function in template.functions.values():
        module = function.handler.rsplit(".", 1)[0]
        deploy_time = {"aurora_ops.aws.policy_gate"}  # CloudFormation's custom resource, no state machine's
        assert module in {f"aurora_ops.workflows.{wing}.handlers" for wing in WINGS} | deploy_time, function.handler


@pytest.mark.parametrize("path", sorted(SIMULATOR.rglob("*.py")), ids=lambda p: str(p.relative_to(SIMULATOR)))
def test_simulator_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_SIMULATOR_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines"
