"""aurora-ops: Step Functions workflows for risky, slow Amazon Aurora operations."""

CREATED_BY_TAG = "aurora-ops:created-by"
