"""aurora-ops: Step Functions workflows for risky, slow Amazon Aurora operations."""

CREATED_BY_TAG = "aurora-ops:created-by"
OPERATION_TAG = "aurora-ops:operation"  # ties a restored cluster to its operation, for resuming
