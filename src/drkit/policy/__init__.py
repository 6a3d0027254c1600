"""Policies that decide over snapshots: retention (which snapshots ``forget`` keeps)."""

from drkit.policy.retention import (
    UNLIMITED,
    Dated,
    RetentionDecision,
    RetentionPolicy,
    apply_retention,
    format_duration,
    group_snapshots,
    parse_duration,
)

__all__ = [
    "UNLIMITED",
    "Dated",
    "RetentionDecision",
    "RetentionPolicy",
    "apply_retention",
    "format_duration",
    "group_snapshots",
    "parse_duration",
]
