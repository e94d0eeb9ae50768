import copy
import json
import logging
import os

import pytest

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "AuroraOps")
logging.getLogger("moto").setLevel(logging.CRITICAL)  # its interpreter logs every caught ASL error

# Calls that change something (the simulator contract's list).
MUTATING_PREFIXES = ("Create", "Delete", "Modify", "Restore", "Copy", "Failover", "Switchover", "Publish",
                     "Put", "Update", "TransactWrite", "Add", "Remove", "Reboot", "Start", "Stop")

BASE_WORLD = {
    "region": "us-east-1",
    "now": "2026-11-24T12:00:00Z",
    "policies": {"orders": {"min_readers": 1, "max_readers": 5,
                            "instance_classes": ["db.r6g.large", "db.r6g.xlarge"]}},
    "clusters": [{
        "id": "orders",
        "engine": "aurora-postgresql",
        "engine_version": "16.4",
        "availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"],
        "instances": [
            {"id": "orders-1", "class": "db.r6g.large", "az": "us-east-1a", "writer": True,
             "parameter_group": "orders-pg"},
            {"id": "orders-2", "class": "db.r6g.large", "az": "us-east-1b"},
        ],
    }],
    "timing": {"polls_until_available": 1, "polls_until_deleted": 1},
}


@pytest.fixture
def world():
    """A fresh copy of the base world for each test to adjust."""
    return copy.deepcopy(BASE_WORLD)


def mutating_calls(report):
    return [c for c in report["aws_calls"] if c["operation"].startswith(MUTATING_PREFIXES)]


def calls(report, operation):
    return [c for c in report["aws_calls"] if c["operation"] == operation]


def instance_ids(world_after, cluster="orders"):
    cluster = next(c for c in world_after["clusters"] if c["id"] == cluster)
    return {i["id"] for i in cluster["instances"]}


def load_event(name):
    root = os.path.dirname(os.path.dirname(__file__))
    with open(os.path.join(root, "events", name)) as f:
        return json.load(f)


def failover_result(report):
    """A failover run's outcome: the output, or for a failed execution (whose cause is
    the one-line message) the outcome its notification carries."""
    if report["status"] == "SUCCEEDED":
        return report["output"]
    (published,) = [n["message"] for n in report["notifications"] if n["message"].get("outcome") == "failed"]
    assert published["message"] == report["cause"]
    return published
