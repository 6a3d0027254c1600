"""Split-brain detection and quorum-based resolution (pure functions over gathered facts)."""
