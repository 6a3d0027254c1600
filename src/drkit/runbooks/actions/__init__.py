"""Runbook actions: the interface (base), the registry, and one module per built-in action."""
