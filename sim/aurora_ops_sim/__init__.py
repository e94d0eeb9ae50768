"""The aurora-ops local simulator: the real ASL files and handlers against moto.
Contract: ../shared/spec/simulator.md."""

from .simulation import Simulation, simulate
from .world import WorldError, load_world

__all__ = ["Simulation", "WorldError", "load_world", "simulate"]
