"""`aurora-ops simulate WORKFLOW --world WORLD --input INPUT [--json]`."""

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


def main(argv=None) -> int:
    parser = _Parser(prog="aurora-ops", description="aurora-ops tools")
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="run a workflow's real state machine against a simulated world")
    sim.add_argument("workflow", help="scale-up")
    sim.add_argument("--world", required=True, help="world file (YAML or JSON)")
    sim.add_argument("--input", required=True, help="execution input (JSON file, or - for stdin)")
    sim.add_argument("--json", action="store_true", help="print exactly one JSON report on stdout")
    sim.add_argument("--verbose", action="store_true", help="handlers log at INFO to stderr")
    args = parser.parse_args(argv)

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO" if args.verbose else "WARNING")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    if not args.verbose:  # moto's interpreter logs expected ASL errors (caught ones included)
        logging.getLogger("moto").setLevel(logging.CRITICAL)
    from .engine import UnknownWorkflow, asl_file, simulate
    from .world import WorldError, load_world

    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # anything but the report goes to stderr
    try:
        asl_file(args.workflow)
        world = load_world(args.world)
        execution_input = _read_input(args.input)
    except (UnknownWorkflow, WorldError, ValueError) as exc:
        sys.stderr.write(f"aurora-ops: {exc}\n")
        return EXIT_USAGE
    # Handler output (logs, EMF metrics) goes to stderr with --json or --verbose;
    # the human-readable account stays readable without it.
    try:
        report = simulate(args.workflow, world, execution_input, echo_handler_output=args.json or args.verbose)
    except WorldError as exc:
        sys.stderr.write(f"aurora-ops: {exc}\n")
        return EXIT_USAGE
    sys.stdout = real_stdout
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        from .render import render

        print(render(report, world))
    return 0


if __name__ == "__main__":
    sys.exit(main())
