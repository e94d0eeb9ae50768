"""World files: a cluster's Serverless v2 scaling configuration (contract, "Policy
document v2": `serverless_v2: {min_acu, max_acu}`), built into moto and shown in
the world after a run."""

import pytest

from aurora_ops_sim import Simulation, WorldError, load_world


def serverless(world, **acus):
    world["clusters"][0]["serverless_v2"] = acus or {"min_acu": 0.5, "max_acu": 16}
    world["clusters"][0]["instances"].append({"id": "orders-flex", "class": "db.serverless", "az": "us-east-1c"})
    return world


def test_a_serverless_v2_cluster_and_its_serverless_instance_are_built_and_dumped(world):
    with Simulation(serverless(world)) as simulation:
        orders = next(c for c in simulation.dump_world()["clusters"] if c["id"] == "orders")
    assert orders["serverless_v2"] == {"min_acu": 0.5, "max_acu": 16}
    assert {i["id"]: i["class"] for i in orders["instances"]}["orders-flex"] == "db.serverless"


def test_a_cluster_without_serverless_v2_dumps_none(world):
    with Simulation(world) as simulation:
        orders = next(c for c in simulation.dump_world()["clusters"] if c["id"] == "orders")
    assert "serverless_v2" not in orders


def test_a_serverless_instance_needs_the_clusters_serverless_v2(world):
    serverless(world)
    del world["clusters"][0]["serverless_v2"]
    with pytest.raises(WorldError, match=r"world.clusters\[0\].instances\[2\].class: db.serverless needs"):
        load_world(world)


@pytest.mark.parametrize("acus,field", [
    ({"min_acu": 8, "max_acu": 4}, "min_acu 8 exceeds max_acu 4"),
    ({"min_acu": 0.5, "max_acu": 0.5}, "serverless_v2.max_acu"),   # must be above 0.5
    ({"min_acu": 0.5, "max_acu": 16.2}, "serverless_v2.max_acu"),  # half-ACU steps
    ({"min_acu": 0.5, "max_acu": 512}, "serverless_v2.max_acu"),
    ({"max_acu": 16}, "serverless_v2"),
])
def test_a_capacity_range_aws_would_refuse_is_a_bad_world(world, acus, field):
    world["clusters"][0]["serverless_v2"] = acus
    with pytest.raises(WorldError, match=field.replace(".", r"\.")):
        load_world(world)
