"""Scale-down decisions: is reader load low, and which reader may go (pure)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from ...core import clock
from ...core.instances import AUTOSCALING_PREFIX, at_least, serving_readers
from ...core.tags import CREATED_BY_TAG

NO_CANDIDATE = "no available reader carries the aurora-ops:created-by tag"


def load_verdict(series: dict[str, list[float]], expected_points: int, threshold: float) -> str | None:
    """None when every reader has every datapoint of the window and each is
    below the threshold; otherwise the reason for doing nothing."""
    if any(value >= threshold for values in series.values() for value in values):
        return "load-not-low"
    if not series or any(len(values) < expected_points for values in series.values()):
        return "insufficient-data"
    return None


def readers_per_az(instances: list[dict]) -> dict[str, int]:
    """How many serving readers each AZ has (what choose_reader_to_remove counts), by AZ."""
    return dict(sorted(Counter(r["availability_zone"] for r in serving_readers(instances)).items()))


def load_evidence(series: dict[str, list[float]], expected_points: int, threshold: float) -> dict:
    """The numbers load_verdict decides on: each reader's peak CPU in the window (None
    without a datapoint) and its datapoints, against the threshold and the window."""
    return {"peak_cpu": {r: max(values) if values else None for r, values in sorted(series.items())},
            "datapoints": {r: len(values) for r, values in sorted(series.items())},
            "threshold": threshold, "lookback_minutes": expected_points}


def in_cooldown(instances: list[dict], last_removed_at: datetime | None, now: datetime, minutes: int) -> bool:
    """A reader this system created, or removed, less than `minutes` ago."""
    horizon = now - timedelta(minutes=minutes)
    created = [clock.parse(i["created"]) for i in instances if CREATED_BY_TAG in i["tags"] and i["created"]]
    return any(moment > horizon for moment in created) or bool(last_removed_at and last_removed_at > horizon)


def choose_reader_to_remove(
    instances: list[dict], min_readers: int, *, max_acu: float | None = None
) -> tuple[dict | None, str, str | None]:
    """(reader, reason, detail). The reader is None when no reader may be removed.

    Only readers this system created are candidates; every reader counts for
    min_readers and AZ coverage; the last reader at least the writer's size
    (the safe failover target) stays. Preferred: the AZ with the most readers,
    then the newest instance. `max_acu`: the cluster's Serverless v2 MaxCapacity;
    a db.serverless reader or writer counts as max_acu x 2 GiB of memory, and when
    a size cannot be compared (see at_least) no reader is removed."""
    writer = next(i for i in instances if i["writer"])
    readers = serving_readers(instances)
    candidates = [
        r for r in readers
        if CREATED_BY_TAG in r["tags"] and r["status"] == "available"
        and not r["instance_id"].startswith(AUTOSCALING_PREFIX)
    ]
    if not candidates:
        return None, "no-candidate", NO_CANDIDATE
    if len(readers) - 1 < min_readers:
        return None, "min-readers", f"{len(readers)} readers, min_readers is {min_readers}"
    per_az = Counter(r["availability_zone"] for r in readers)
    allowed = [c for c in candidates if per_az[c["availability_zone"]] >= 2]
    if not allowed:
        return None, "last-in-az", "every candidate is the last reader in its AZ"
    try:
        failover_targets = [r for r in readers if at_least(r["instance_class"], writer["instance_class"], max_acu)]
    except ValueError as exc:
        return None, "failover-target", f"cannot tell which readers are at least the writer's size: {exc}"
    allowed = [c for c in allowed if not (c in failover_targets and len(failover_targets) == 1)]
    if not allowed:
        return None, "failover-target", "the only candidate is the last reader at least the writer's size"
    allowed.sort(key=lambda c: (per_az[c["availability_zone"]], c["created"] or ""), reverse=True)
    return allowed[0], "load-low", None
