"""The simulated world: the world file (load), the moto account built from it
(build), what real RDS does that moto doesn't (rds_model), and the world as it
is after a run, in the world format (dump)."""

from .load import WorldError, load_world, unmatched_policy_keys

__all__ = ["WorldError", "load_world", "unmatched_policy_keys"]
