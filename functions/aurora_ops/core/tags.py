"""The tags this system puts on what it creates; IAM conditions use the same keys."""

CREATED_BY_TAG = "aurora-ops:created-by"
OPERATION_TAG = "aurora-ops:operation"  # ties a restored cluster to its operation, for resuming
