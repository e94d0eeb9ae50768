"""`aurora-ops chaos`: the same execution many times, each with faults drawn at
random from a seed (Lambda faults on random Task states, throttling, internal
failures and transport errors on random AWS calls, duplicate starts), on top
of the world's own faults; after each run the six invariants of the contract
are checked. Run `i` uses seed `seed + i`, so `--seed S --runs 1` replays it."""

from __future__ import annotations

import copy
import json
import logging
import multiprocessing
import os
import random
import sys

from .engine import ROOT, Simulation, asl_file
from .invariants import check_invariants
from .stack import task_states
from .world import load_world

LAMBDA_FAULTS = ("lost-response", "timeout", "service-error", "throttled")
API_FAULT_CODES = ("Throttling", "InternalFailure", "EndpointConnectionError")


def _task_names(workflow: str, root) -> list[str]:
    return list(task_states(json.loads((root / asl_file(workflow)).read_text())["States"]))


def draw_faults(rng: random.Random, states: list[str], operations: list[tuple[str, str]]) -> dict:
    """A run's extra faults: a few Lambda faults, a few AWS call errors, maybe a duplicate start."""
    lambda_faults = [{"state": rng.choice(states), "fault": rng.choice(LAMBDA_FAULTS), "times": rng.choice((1, 1, 2))}
                     for _ in range(rng.choice((0, 1, 1, 2, 3)))]
    api_errors = []
    for _ in range(rng.choice((0, 1, 1, 2))):
        service, operation = rng.choice(operations)
        api_errors.append({"service": service, "operation": operation, "code": rng.choice(API_FAULT_CODES),
                           "times": rng.choice((1, 1, 2))})
    return {"lambda": lambda_faults, "api_errors": api_errors, "duplicate_start": rng.random() < 0.25}


def _with_faults(world: dict, extra: dict) -> dict:
    world = copy.deepcopy(world)
    faults = world.setdefault("faults", {})
    faults["lambda"] = [*faults.get("lambda", []), *extra["lambda"]]
    faults["api_errors"] = [*faults.get("api_errors", []), *extra["api_errors"]]
    faults["duplicate_start"] = faults.get("duplicate_start", False) or extra["duplicate_start"]
    return world


def _run(workflow: str, world: dict, execution_input) -> tuple[dict, dict]:
    with Simulation(world, echo_handler_output=False) as simulation:
        before = simulation.dump_world()
        return before, simulation.run(workflow, execution_input)


_job: dict = {}  # what each run of this process needs: set once per process, not per run


def _set_job(job: dict, moto_log_level: int) -> None:
    _job.update(job)
    logging.getLogger("moto").setLevel(moto_log_level)  # as quiet as the parent


def _start_worker(job: dict, moto_log_level: int) -> None:
    _set_job(job, moto_log_level)
    sys.stdout = sys.stderr  # handlers' logs never mix into the parent's result on stdout


def _one_run(run_seed: int) -> list[dict]:
    job = _job
    extra = draw_faults(random.Random(run_seed), job["states"], job["operations"])
    before, report = _run(job["workflow"], _with_faults(job["world"], extra), job["input"])
    return [{"seed": run_seed, "faults": extra, "invariant": invariant, "detail": detail}
            for invariant, detail in check_invariants(job["workflow"], job["input"], before, report)]


def chaos(workflow: str, world, execution_input, runs: int = 50, seed: int = 0, root=None,
          jobs: int | None = None) -> dict:
    """{"runs": N, "violations": [{"seed", "faults", "invariant", "detail"}]}. Runs are
    shared among `jobs` worker processes (default: one per core), each reused for
    all its runs; the result does not depend on how many."""
    world = load_world(world)
    _, baseline = _run(workflow, world, execution_input)  # which AWS calls this execution makes
    operations = sorted({(c["service"], c["operation"]) for c in baseline["aws_calls"]})
    job = {"workflow": workflow, "world": world, "input": execution_input,
           "states": _task_names(workflow, root or ROOT), "operations": operations or [("rds", "DescribeDBClusters")]}
    seeds = range(seed, seed + runs)
    jobs = min(jobs or os.cpu_count() or 1, max(runs, 1))
    if jobs > 1:  # spawned, not forked: moto's interpreter threads make fork unsafe
        context = multiprocessing.get_context("spawn")
        with context.Pool(jobs, initializer=_start_worker, initargs=(job, logging.getLogger("moto").level)) as pool:
            per_run = pool.map(_one_run, seeds, chunksize=1)
    else:
        _set_job(job, logging.getLogger("moto").level)
        per_run = [_one_run(run_seed) for run_seed in seeds]
    return {"runs": runs, "violations": [v for found in per_run for v in found]}
