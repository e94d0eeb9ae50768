"""Disaster-recovery worlds (contract, "Disaster-recovery worlds"): global clusters
and their members, DSQL clusters, checked and defaulted after the clusters are.

A global cluster's members are clusters of the world, in any region; the one
member whose cluster has a writer instance is the primary, the others are
secondaries whose instances are all readers. Each member names its global
cluster in `global_cluster` (filled in when left out) and has a
`synchronization_status` (default `connected`). A member's `engine_version` may
differ from the global cluster's: that is how a world makes a switchover's
"same engine version" prerequisite fail."""

from __future__ import annotations

from .errors import WorldError


def global_members(world: dict) -> set[str]:
    """The ids of the clusters some global cluster lists as a member (checked before the
    clusters are: a member's instances may all be readers)."""
    ids = {cluster["id"] for cluster in world.get("clusters", [])}
    for index, group in enumerate(world.get("global_clusters", [])):
        for position, member in enumerate(group["members"]):
            if member not in ids:
                raise WorldError(f"world.global_clusters[{index}].members[{position}]: {member!r} "
                                 "is not a cluster of the world")
    groups = {group["id"] for group in world.get("global_clusters", [])}
    for index, cluster in enumerate(world.get("clusters", [])):
        if "global_cluster" in cluster and cluster["global_cluster"] not in groups:
            raise WorldError(f"world.clusters[{index}].global_cluster: {cluster['global_cluster']!r} names no "
                             "global cluster of the world (global_clusters)")
    return {member for group in world.get("global_clusters", []) for member in group["members"]}


def dr_defaults(world: dict) -> None:
    world.setdefault("global_clusters", [])
    world.setdefault("dsql_clusters", [])
    for dsql in world["dsql_clusters"]:
        dsql.setdefault("region", world["region"])
        dsql.setdefault("status", "ACTIVE")
        dsql.setdefault("peers", [])
    clusters = {cluster["id"]: cluster for cluster in world["clusters"]}
    member_of = _members(world, clusters)
    for index, cluster in enumerate(world["clusters"]):
        where = f"world.clusters[{index}]"
        named = cluster.get("global_cluster")
        if named is None and cluster["id"] in member_of:
            cluster["global_cluster"] = member_of[cluster["id"]]
        elif named is not None and member_of.get(cluster["id"]) != named:
            raise WorldError(f"{where}.global_cluster: {named!r} does not list {cluster['id']!r} among its members")
        if "global_cluster" in cluster:
            cluster.setdefault("synchronization_status", "connected")
        elif "synchronization_status" in cluster:
            raise WorldError(f"{where}.synchronization_status: only a member of a global cluster has one")


def _members(world: dict, clusters: dict) -> dict[str, str]:
    """{member cluster id: its global cluster's id}, each global cluster checked and defaulted."""
    member_of: dict[str, str] = {}
    seen: dict[str, int] = {}
    for index, group in enumerate(world["global_clusters"]):
        where = f"world.global_clusters[{index}]"
        if group["id"].lower() in seen:
            raise WorldError(f"{where}.id: {group['id']!r} is used twice")
        seen[group["id"].lower()] = index
        for position, member in enumerate(group["members"]):
            if member in member_of:
                raise WorldError(f"{where}.members[{position}]: {member!r} is already a member of "
                                 f"{member_of[member]!r} (a cluster belongs to one global cluster at most)")
            member_of[member] = group["id"]
        group.setdefault("engine", clusters[group["members"][0]]["engine"])
        for position, member in enumerate(group["members"]):
            if clusters[member]["engine"] != group["engine"]:
                raise WorldError(f"{where}.members[{position}]: {member!r} runs {clusters[member]['engine']}, "
                                 f"the global cluster {group['engine']} (all members run its engine)")
        primaries = [member for member in group["members"]
                     if any(instance["writer"] for instance in clusters[member]["instances"])]
        if len(primaries) != 1:
            raise WorldError(f"{where}.members: exactly one member must have a writer instance (the primary); "
                             f"found {len(primaries)}{': ' + ', '.join(primaries) if primaries else ''}")
        group.setdefault("engine_version", clusters[primaries[0]]["engine_version"])
    return member_of
