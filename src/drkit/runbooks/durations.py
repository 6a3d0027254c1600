"""Durations as people write them: 90 s -> ``1m30s``, 0.5 s -> ``0.5s``."""

from __future__ import annotations

from datetime import timedelta

from drkit.policy.objectives import format_objective


def duration_text(value: timedelta | float | None) -> str:
    if value is None:
        return "-"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 60 and seconds != int(seconds):
        return f"{seconds:.1f}s"
    return format_objective(timedelta(seconds=round(seconds)))
