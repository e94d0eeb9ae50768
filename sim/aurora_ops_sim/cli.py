"""`aurora-ops simulate WORKFLOW --world WORLD --input INPUT [--json] [--fail-on-error]`,
`aurora-ops chaos WORKFLOW --world WORLD --input INPUT [--runs N] [--seed S] [--json]` and
`aurora-ops policy check DOCUMENT [--world WORLD] [--json]` (policy_check.py)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from importlib import metadata

from .engine import WORKFLOWS

EXIT_USAGE = 2
DISTRIBUTION = "aurora-ops"  # pyproject.toml's [project] name


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as the contract asks
        sys.stderr.write(f"aurora-ops: {message}\n")
        sys.exit(EXIT_USAGE)


def _read_input(path: str):
    try:
        text = sys.stdin.read() if path == "-" else open(path).read()
    except OSError as exc:
        raise ValueError(f"cannot read input {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"input {path} is not JSON: {exc}") from None


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a tree that was never installed
        return "unknown (not installed)"


def _arguments(argv):
    parser = _Parser(prog="aurora-ops", description="aurora-ops tools")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    workflows = ", ".join(WORKFLOWS)
    sim = commands.add_parser(
        "simulate", help="run a workflow's real state machine against a simulated world",
        description=f"Run a workflow's real state machine and handlers against a simulated world. "
                    f"Workflows: {workflows}.")
    chaos = commands.add_parser(
        "chaos", help="run a workflow many times under random faults; check the invariants",
        description=f"Run a workflow many times under random faults and check the invariants. "
                    f"Workflows: {workflows}.")
    for command in (sim, chaos):
        command.add_argument("workflow", help=f"one of: {workflows}")
        command.add_argument("--world", required=True, help="world file (YAML or JSON)")
        command.add_argument("--input", required=True, help="execution input (JSON file, or - for stdin)")
        command.add_argument("--json", action="store_true", help="print exactly one JSON report on stdout")
        command.add_argument("--verbose", action="store_true",
                             help="handlers log at INFO to stderr; the account lists every state entered")
    sim.add_argument("--fail-on-error", action="store_true",
                     help="exit 1 when the execution did not succeed (for CI); without it, 0 whenever it ran")
    chaos.add_argument("--runs", type=_non_negative, default=50, help="how many runs (default 50)")
    chaos.add_argument("--seed", type=_non_negative, default=0,
                       help="run i uses seed SEED+i; --seed S --runs 1 replays run S (default 0)")
    chaos.add_argument("--jobs", type=_non_negative, default=0,
                       help="worker processes (default: one per core); results do not depend on it")
    policy = commands.add_parser("policy", help="policy document tools (check)")
    check = policy.add_subparsers(dest="policy_command", metavar="command", required=True).add_parser(
        "check", help="validate a policy document and print the policy each cluster resolves to")
    check.add_argument("document", help="policy document, v1 or v2 (JSON or YAML file, or - for stdin)")
    check.add_argument("--world", help="world file: check the tags of its clusters and list which are managed "
                                       "(its own policies are ignored)")
    check.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    return parser.parse_args(argv)


def _run(args):
    """The simulation or the chaos runs; None after a one-line usage error on stderr."""
    from .engine import UnknownWorkflow, asl_file, simulate
    from .world import WorldError, load_world, unmatched_policy_keys

    try:
        asl_file(args.workflow)
        world = load_world(args.world)
        execution_input = _read_input(args.input)
    except (UnknownWorkflow, WorldError, ValueError) as exc:
        sys.stderr.write(f"aurora-ops: {exc}\n")
        return None
    target = (execution_input.get("target") or {}) if isinstance(execution_input, dict) else {}
    for key in unmatched_policy_keys(world, [target["cluster_id"]] if isinstance(target.get("cluster_id"), str) else []):
        sys.stderr.write(f"aurora-ops: warning: world.policies.{key} matches no cluster of the world "
                         "(a typo leaves that cluster unmanaged)\n")
    try:
        if args.command == "chaos":
            from .chaos import chaos

            return chaos(args.workflow, world, execution_input, runs=args.runs, seed=args.seed,
                         jobs=args.jobs or None), world
        # Handler output (logs, EMF metrics) goes to stderr with --json or --verbose;
        # the human-readable account stays readable without it.
        return simulate(args.workflow, world, execution_input, echo_handler_output=args.json or args.verbose), world
    except WorldError as exc:
        sys.stderr.write(f"aurora-ops: {exc}\n")
        return None


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.command == "policy":
        from .policy_check import run

        return run(args)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO" if args.verbose else "WARNING")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    if not args.verbose:  # moto's interpreter logs expected ASL errors (caught ones included)
        logging.getLogger("moto").setLevel(logging.CRITICAL)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # anything but the report goes to stderr
    try:
        result = _run(args)
    finally:
        sys.stdout = real_stdout
    if result is None:
        return EXIT_USAGE
    result, world = result
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.command == "chaos":
        for violation in result["violations"]:
            print(f"seed {violation['seed']}: {violation['invariant']}: {violation['detail']} "
                  f"(faults: {json.dumps(violation['faults'])})")
        print(f"{result['runs']} runs, {len(result['violations'])} violations")
    else:
        from .render import render
        from .render_style import Style, wants_colour

        print(render(result, world, style=Style(wants_colour(sys.stdout)), verbose=args.verbose))
    if args.command == "chaos":
        return 1 if result["violations"] else 0
    return 1 if args.fail_on_error and result["status"] != "SUCCEEDED" else 0


if __name__ == "__main__":
    sys.exit(main())
