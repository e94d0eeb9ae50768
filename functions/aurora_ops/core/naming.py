"""The names this system gives the instances it creates, and how to recognise them."""

from __future__ import annotations

import hashlib
import re

OWN_READER_NAME = re.compile(r"-aops-[0-9a-f]{8}-\d+$")  # what reader_identifier makes


def reader_identifier(cluster_id: str, execution_name: str, attempt: int) -> str:
    """Deterministic per execution and attempt, so a retried create finds its own instance."""
    digest = hashlib.sha256(execution_name.encode()).hexdigest()[:8]
    suffix = f"-aops-{digest}-{attempt}"
    return cluster_id[: 63 - len(suffix)].rstrip("-") + suffix
