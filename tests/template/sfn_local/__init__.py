"""Step Functions Local test support: the Docker socket probe, the mock config, an ASL walker."""
