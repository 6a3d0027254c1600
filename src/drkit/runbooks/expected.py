"""How long a runbook usually takes: the figures ``runbook stats`` and the guide share."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_LAST = 10
"""How many of the newest runs ``runbook stats`` and ``runbook guide`` both look at."""


@dataclass(frozen=True)
class Expected:
    """The median total of the full succeeded runs, and the median of each step."""

    total_s: float | None = None
    runs: int = 0
    """How many full succeeded runs the total is the median of."""
    steps: dict[str, float] = field(default_factory=dict)
