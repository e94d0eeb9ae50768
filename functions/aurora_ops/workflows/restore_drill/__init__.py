"""The restore-drill workflow: restore each cluster's latest snapshot into a scratch
cluster (through the snapshot-restore state machine), query it, delete it
(statemachines/restore_drill.asl.json)."""
