"""dr-readiness: whether every covered cluster, global cluster and Aurora DSQL cluster could
fail over or be restored within its targets, recorded, and told when that changes."""
