"""Recovery time per run and per step, against the RTO, and its trend over the last runs.

The numbers come from the journals: a run's total is its duration (from
the first step to the end, resumes included: that is the time the service
was being recovered); a step's time is the sum of its executions in that
run (retries and goto loops included). The trend compares the median total
of the older half of the runs with that of the newer half.

A partial run (``rerun --from STEP`` past the first step) took the steps
before STEP from an older run: its total is not a recovery time, so it is
shown, marked, but kept out of the median, the trend and the guide's
expected total. The steps it did run count in the step medians like any
other (the reused ones are journalled as skipped and never count).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, StepStatus, get_run, list_runs
from drkit.runbooks.expected import DEFAULT_LAST, Expected
from drkit.runbooks.journal import Phase, records
from drkit.runbooks.service import KINDS

TREND_MARGIN = 0.10
"""A change of the median below 10% is "stable": drills vary run to run."""


class Trend(StrEnum):
    IMPROVING = "improving"
    WORSE = "worse"
    STABLE = "stable"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RunTiming:
    run_id: int
    kind: str
    status: RunStatus
    started_at: datetime
    total_s: float
    steps: dict[str, float] = field(default_factory=dict)
    rto_s: float | None = None
    from_step: str | None = None
    """The step a partial run (a re-run) started from; None for a full run."""

    @property
    def partial(self) -> bool:
        return self.from_step is not None

    @property
    def counted(self) -> bool:
        """A full run that succeeded: its total is a recovery time."""
        return self.status is RunStatus.SUCCEEDED and not self.partial

    @property
    def rto_met(self) -> bool | None:
        if self.rto_s is None:
            return None
        return self.status is RunStatus.SUCCEEDED and self.total_s <= self.rto_s

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "status": self.status.value,
            "started_at": self.started_at.isoformat(),
            "total_s": round(self.total_s, 3),
            "rto_s": self.rto_s,
            "rto_met": self.rto_met,
            "partial": self.partial,
            "from_step": self.from_step,
            "counted": self.counted,
            "steps": {k: round(v, 3) for k, v in self.steps.items()},
        }


@dataclass(frozen=True)
class RunbookStats:
    runbook: str
    rto_s: float | None
    runs: tuple[RunTiming, ...]  # newest first
    trend: Trend

    @property
    def counted_runs(self) -> int:
        return sum(1 for r in self.runs if r.counted)

    @property
    def median_total_s(self) -> float | None:
        """The median total of the full runs that succeeded (partial ones are left out)."""
        totals = [r.total_s for r in self.runs if r.counted]
        return statistics.median(totals) if totals else None

    def step_medians(self) -> dict[str, float]:
        return step_medians(self.runs)

    def expected(self) -> Expected:
        """What the guide shows: the same figures ``runbook stats`` prints."""
        return Expected(self.median_total_s, self.counted_runs, self.step_medians())

    def as_json(self) -> dict[str, Any]:
        return {
            "runbook": self.runbook,
            "rto_s": self.rto_s,
            "trend": self.trend.value,
            "median_total_s": self.median_total_s,
            "counted_runs": self.counted_runs,
            "step_medians_s": {k: round(v, 3) for k, v in self.step_medians().items()},
            "runs": [r.as_json() for r in self.runs],
        }


def trend(totals_oldest_first: Sequence[float]) -> Trend:
    """Compare the median of the older half with the newer half (at least 4 runs)."""
    if len(totals_oldest_first) < 4:
        return Trend.UNKNOWN
    half = len(totals_oldest_first) // 2
    older = statistics.median(totals_oldest_first[:half])
    newer = statistics.median(totals_oldest_first[-half:])
    if older <= 0:
        return Trend.UNKNOWN
    change = (newer - older) / older
    if change <= -TREND_MARGIN:
        return Trend.IMPROVING
    if change >= TREND_MARGIN:
        return Trend.WORSE
    return Trend.STABLE


def step_medians(runs: Sequence[RunTiming]) -> dict[str, float]:
    """The median time of every step over the succeeded runs that ran it."""
    samples: dict[str, list[float]] = {}
    for timing in runs:
        if timing.status is RunStatus.SUCCEEDED:
            for step, seconds in timing.steps.items():
                samples.setdefault(step, []).append(seconds)
    return {step: statistics.median(values) for step, values in samples.items()}


def collect(
    catalog: Catalog,
    name: str,
    *,
    last: int = DEFAULT_LAST,
    kinds: Sequence[str] = KINDS,
    rto_s: float | None = None,
) -> RunbookStats:
    """The timings of the last ``last`` finished runs of runbook ``name``."""
    finished = (RunStatus.SUCCEEDED, RunStatus.FAILED)
    views = [
        v
        for kind in kinds
        for v in list_runs(catalog, kind=kind, subject=name, limit=last * 4)
        if v.status in finished and v.duration_s is not None
    ]
    views = sorted(views, key=lambda v: v.started_at, reverse=True)[:last]
    runs = tuple(_timing(catalog, v.id, rto_s) for v in views)
    counted = [r.total_s for r in reversed(runs) if r.counted]
    return RunbookStats(name, rto_s, runs, trend(counted))


def _timing(catalog: Catalog, run_id: int, rto_s: float | None) -> RunTiming:
    view = get_run(catalog, run_id)
    steps: dict[str, float] = {}
    for record in records(catalog, run_id):
        ran = record.status in (StepStatus.SUCCEEDED, StepStatus.FAILED)
        if record.phase is Phase.MAIN and ran and record.duration_s is not None:
            steps[record.step] = steps.get(record.step, 0.0) + record.duration_s
    recorded_rto = view.result.get("rto_s")
    return RunTiming(
        run_id=view.id,
        kind=view.kind,
        status=view.status,
        started_at=view.started_at,
        total_s=view.duration_s or 0.0,
        steps=steps,
        rto_s=rto_s if rto_s is not None else recorded_rto,
        from_step=_partial_from(view.result),
    )


def _partial_from(result: dict[str, Any]) -> str | None:
    """The step a re-run started from, unless it started from the first (a full run)."""
    from_step = result.get("from_step")
    if not isinstance(from_step, str) or result.get("partial") is False:
        return None
    return from_step
