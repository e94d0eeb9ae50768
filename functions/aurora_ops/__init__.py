"""aurora-ops: Step Functions workflows for risky, slow Amazon Aurora operations.

Layers, each importing only the ones below it (tests/test_layout.py checks):
  workflows/<workflow>/  one wing per state machine: handlers, steps, decisions, schemas
  shared/                steps more than one workflow uses (capacity fallback)
  aws/                   thin adapters: clients, RDS, CloudWatch, DynamoDB, reporting
  core/                  errors, tags, policy, triggers, validation, outcome, clock
See docs/architecture.md."""
