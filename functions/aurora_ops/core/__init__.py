"""The core: pure code every layer above uses; imports nothing of aurora-ops but itself."""
