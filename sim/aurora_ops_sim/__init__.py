"""The aurora-ops local simulator: the real ASL files and handlers against moto.
Contract: ../shared/spec/simulator.md.

  cli        `aurora-ops simulate ...`
  engine     runs a state machine of template.yaml with the real handlers (patches: the moto hooks)
  world/     the world file (load), building it in moto (build), RDS as AWS behaves (rds_model), dump
  faults     the world's faults, injected into AWS calls and the RDS model
  report     the report of an execution; render: its human-readable account"""

from .engine import Simulation, simulate
from .world import WorldError, load_world

__all__ = ["Simulation", "WorldError", "load_world", "simulate"]
