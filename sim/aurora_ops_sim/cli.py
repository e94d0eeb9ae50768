"""`aurora-ops simulate WORKFLOW --world WORLD --input INPUT [--json]`,
`aurora-ops chaos WORKFLOW --world WORLD --input INPUT [--runs N] [--seed S] [--json]` and
`aurora-ops policy check DOCUMENT [--world WORLD] [--json]` (policy_check.py)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

EXIT_USAGE = 2


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


def _arguments(argv):
    parser = _Parser(prog="aurora-ops", description="aurora-ops tools")
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="run a workflow's real state machine against a simulated world")
    chaos = commands.add_parser("chaos", help="run a workflow many times under random faults; check the invariants")
    for command in (sim, chaos):
        command.add_argument("workflow", help="scale-up, scale-down or snapshot-restore")
        command.add_argument("--world", required=True, help="world file (YAML or JSON)")
        command.add_argument("--input", required=True, help="execution input (JSON file, or - for stdin)")
        command.add_argument("--json", action="store_true", help="print exactly one JSON report on stdout")
        command.add_argument("--verbose", action="store_true", help="handlers log at INFO to stderr")
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


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.command == "policy":
        from .policy_check import run

        return run(args)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO" if args.verbose else "WARNING")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    if not args.verbose:  # moto's interpreter logs expected ASL errors (caught ones included)
        logging.getLogger("moto").setLevel(logging.CRITICAL)
    from .engine import UnknownWorkflow, asl_file, simulate
    from .world import WorldError, load_world, unmatched_policy_keys

    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # anything but the report goes to stderr
    try:
        asl_file(args.workflow)
        world = load_world(args.world)
        execution_input = _read_input(args.input)
    except (UnknownWorkflow, WorldError, ValueError) as exc:
        sys.stderr.write(f"aurora-ops: {exc}\n")
        return EXIT_USAGE
    target = (execution_input.get("target") or {}) if isinstance(execution_input, dict) else {}
    for key in unmatched_policy_keys(world, [target["cluster_id"]] if isinstance(target.get("cluster_id"), str) else []):
        sys.stderr.write(f"aurora-ops: warning: world.policies.{key} matches no cluster of the world "
                         "(a typo leaves that cluster unmanaged)\n")
    try:
        if args.command == "chaos":
            from .chaos import chaos

            result = chaos(args.workflow, world, execution_input, runs=args.runs, seed=args.seed,
                           jobs=args.jobs or None)
        else:
            # Handler output (logs, EMF metrics) goes to stderr with --json or --verbose;
            # the human-readable account stays readable without it.
            result = simulate(args.workflow, world, execution_input, echo_handler_output=args.json or args.verbose)
    except WorldError as exc:
        sys.stderr.write(f"aurora-ops: {exc}\n")
        return EXIT_USAGE
    sys.stdout = real_stdout
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.command == "chaos":
        for violation in result["violations"]:
            print(f"seed {violation['seed']}: {violation['invariant']}: {violation['detail']} "
                  f"(faults: {json.dumps(violation['faults'])})")
        print(f"{result['runs']} runs, {len(result['violations'])} violations")
    else:
        from .render import render

        print(render(result, world))
    if args.command == "chaos":
        return 1 if result["violations"] else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
