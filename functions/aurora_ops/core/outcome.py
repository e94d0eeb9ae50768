"""The one shape every workflow outcome takes (none, created, failed, ...)."""

from __future__ import annotations

OUTCOME_FIELDS = (
    "action", "reason", "cluster_id", "instance_id", "instance_class",
    "availability_zone", "attempts", "plan", "error", "message",
)


def make_outcome(**fields: object) -> dict:
    unknown = set(fields) - set(OUTCOME_FIELDS)
    if unknown:
        raise TypeError(f"unknown outcome fields {sorted(unknown)}")
    outcome = dict.fromkeys(OUTCOME_FIELDS)
    outcome["attempts"] = []
    outcome.update(fields)
    return outcome

