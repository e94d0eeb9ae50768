"""The failover workflow: in-region drills, global switchover, global failover with a
data-loss guard, and detach-and-promote (statemachines/failover.asl.json)."""
