"""The simulator's own boto3 clients (to moto), one per (service, region): creating
a client costs ~40 ms, more than most simulated calls. Cleared with each Simulation."""

from __future__ import annotations

import functools

import boto3


@functools.cache
def client(service: str, region: str):
    return boto3.client(service, region_name=region)
