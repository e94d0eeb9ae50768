"""The snapshot-restore wing: statemachines/snapshot_restore.asl.json runs these handlers."""
