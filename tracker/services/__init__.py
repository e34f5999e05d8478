"""Use cases. Each takes an explicit actor, checks permissions, raises domain errors and
flushes; only views and CLI commands commit."""
