"""The world as it is now, in the world format: what a report's `world` holds
(clusters, instances and snapshots a workflow made included, global clusters with
their members as they are now, the primary first, locks, operations)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from aurora_ops.core import clock

from ..clients import client

from .backends import global_clusters, rds_backend, rds_regions
from .build import STATE_TABLE


def dump_world(world: dict, now: datetime, faults: dict) -> dict:
    """`world` as loaded, brought up to date from moto; `faults` as they stand (counted down)."""
    account = world["account_id"]
    dumped = copy.deepcopy(world)
    dumped["now"] = clock.iso(now)
    dumped["faults"] = copy.deepcopy(faults)
    cpu = {i["id"]: i["cpu"] for c in world["clusters"] for i in c["instances"] if "cpu" in i}
    regions = sorted({world["region"]} | {c["region"] for c in world["clusters"]}
                     | {s["region"] for s in world["snapshots"]} | rds_regions(account))
    listed = {(c["region"], c["id"]): c for c in dumped["clusters"]}
    group_ids = {g["id"].lower(): g["id"] for g in world["global_clusters"]}
    for region in regions:
        for cluster_id, live in rds_backend(account, region).clusters.items():
            if (region, cluster_id) not in listed:
                listed[(region, cluster_id)] = {
                    "id": cluster_id, "region": region, "engine": live.engine, "engine_version": live.engine_version,
                    "availability_zones": list(live.availability_zones or []),
                    "tags": {t["Key"]: t["Value"] for t in live.tags or []}}
                dumped["clusters"].append(listed[(region, cluster_id)])
    for (region, cluster_id), cluster in listed.items():
        backend = rds_backend(account, region)
        live = backend.clusters.get(cluster_id)
        cluster["status"] = live.status if live else "deleted"
        acus = getattr(live, "serverless_v2_scaling_configuration", None) if live else None
        if acus and acus.get("MaxCapacity") is not None:
            cluster["serverless_v2"] = {"min_acu": acus.get("MinCapacity"), "max_acu": acus.get("MaxCapacity")}
        cluster["instances"] = [_instance(db, cpu) for db in backend.databases.values()
                                if getattr(db, "db_cluster_identifier", None) == cluster_id]
        if live is not None and getattr(live, "global_cluster_identifier", None):
            cluster["global_cluster"] = group_ids.get(live.global_cluster_identifier, live.global_cluster_identifier)
        elif live is not None:  # detached (or never a member): a standalone cluster
            cluster.pop("global_cluster", None)
            cluster.pop("synchronization_status", None)
    dumped["global_clusters"] = _global_clusters(world, account)
    data = {(s["region"], s["id"]): s["data"] for s in world["snapshots"] if "data" in s}
    dumped["snapshots"] = [
        {"id": snapshot_id, "cluster": snap.db_cluster_identifier, "region": region, "type": snap.snapshot_type,
         "created": clock.iso(snap.created), "status": snap.status, "engine": snap.engine,
         "engine_version": snap.engine_version, "encrypted": bool(snap.storage_encrypted),
         **({"kms_key": snap.kms_key_id} if snap.kms_key_id else {}),
         **({"tags": {t["Key"]: t["Value"] for t in snap.tags}} if snap.tags else {}),
         **({"data": data[(region, snapshot_id)]} if (region, snapshot_id) in data else {})}
        for region in regions
        for snapshot_id, snap in rds_backend(account, region).cluster_snapshots.items()
    ]
    items = client("dynamodb", world["region"]).scan(TableName=STATE_TABLE)["Items"]
    dumped["locks"] = [
        {"cluster": item["pk"]["S"].split("#", 1)[1], "owner": item["owner"]["S"],
         "workflow": item.get("workflow", {}).get("S", ""),
         "expires_at": clock.iso(clock.parse("1970-01-01T00:00:00Z") + timedelta(seconds=int(item["expires_at"]["N"])))}
        for item in items if item["pk"]["S"].startswith("lock#")
    ]
    dumped["operations"] = [  # extension: restore operation records
        {"id": item["pk"]["S"].split("#", 1)[1], "status": item["status"]["S"],
         "steps": sorted(k.removeprefix("step_") for k in item if k.startswith("step_")),
         "audit": len(item.get("audit", {}).get("L", []))}
        for item in items if item["pk"]["S"].startswith("operation#")
    ]
    return dumped


def _global_clusters(world: dict, account: str) -> list[dict]:
    """Each global cluster with its members now, the primary (the writer member) first."""
    ids = {g["id"].lower(): g["id"] for g in world["global_clusters"]}
    names = {(c["region"], c["id"].lower()): c["id"] for c in world["clusters"]}
    dumped = []
    for global_id, live in global_clusters(account).items():
        members = sorted(live.members, key=lambda member: not member.is_writer)
        dumped.append({"id": ids.get(global_id, global_id), "engine": live.engine, "engine_version": live.engine_version,
                       "status": live.status, "members": [names.get((m.region, m.db_cluster_identifier), m.db_cluster_identifier)
                                   for m in members]})
    return dumped


def _instance(db, cpu: dict) -> dict:
    instance = {
        "id": db.db_instance_identifier,
        "class": db.db_instance_class,
        "az": db.availability_zone,
        "writer": bool(db.is_cluster_writer),
        "status": db.status,
        "promotion_tier": db.promotion_tier,
        "parameter_group": db.db_parameter_group_name or "default",
        "created": db.instance_create_time if isinstance(db.instance_create_time, str) else clock.iso(db.instance_create_time),
        "tags": {t["Key"]: t["Value"] for t in db.tags},
    }
    if db.db_instance_identifier in cpu:
        instance["cpu"] = cpu[db.db_instance_identifier]
    return instance
