"""Fault injection: the world file's `faults`, asked before each AWS call, before
and after each Lambda invocation, and by the RDS model (which creates lose
capacity, which classes aren't orderable)."""

from __future__ import annotations

import copy

from .world.data_api_rows import normalise


def _matches(fault: dict, instance_class: str | None, az: str | None) -> bool:
    return fault["class"] == instance_class and fault["az"] in ("*", az)


class Faults:
    def __init__(self, faults: dict):
        self.state = copy.deepcopy(faults)  # `times` counts down as faults fire

    def api_error(self, service: str, operation: str, params: dict) -> str | None:
        """The error code this call fails with, if a fault says so."""
        for fault in self.state["api_errors"]:
            if fault["service"] == service and fault["operation"] == operation and fault["times"] > 0:
                fault["times"] -= 1
                return fault["code"]
        if service == "rds" and operation == "CreateDBInstance":
            instance_class, az = params.get("DBInstanceClass"), params.get("AvailabilityZone")
            if any(_matches(f, instance_class, az) for f in self.state["insufficient_capacity"]):
                return "InsufficientDBInstanceCapacity"
            if self.not_orderable(instance_class, az):
                return "InvalidParameterCombination"
        return None

    def lambda_fault(self, state: str) -> str | None:
        """The fault of this invocation of the Task state `state`, if any (counted down)."""
        for fault in self.state["lambda"]:
            if fault["state"] == state and fault["times"] > 0:
                fault["times"] -= 1
                return fault["fault"]
        return None

    def data_api_fault(self, sql: str, cluster_id: str) -> str | None:
        """The fault of this Data API statement on this cluster, if any (`times`, when given, counts down)."""
        for fault in self.state["data_api"]:
            if normalise(fault["sql"]) in ("*", normalise(sql)) and fault.get("cluster") in (None, cluster_id) \
                    and fault.get("times", 1) > 0:
                if "times" in fault:
                    fault["times"] -= 1
                return fault["fault"]
        return None

    @property
    def duplicate_start(self) -> bool:
        return bool(self.state["duplicate_start"])

    def not_orderable(self, instance_class: str | None, az: str | None) -> bool:
        return any(_matches(f, instance_class, az) for f in self.state["not_orderable"])

    def capacity_lost(self, instance_class: str | None, az: str | None) -> bool:
        """A create that RDS accepts, then ends in `insufficient-capacity`."""
        return any(_matches(f, instance_class, az) for f in self.state["capacity_lost"])

    def restore_final_status(self, cluster_id: str) -> str:
        return next((f["status"] for f in self.state["restore_ends_in"] if f["cluster"] == cluster_id), "available")
