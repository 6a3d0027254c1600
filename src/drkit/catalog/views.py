"""What a run and its steps look like to readers: the views, their statuses, their JSON.

Imports no SQLAlchemy, so a face that only lists runs (``drkit runs``, the
quick SQLite read of :mod:`drkit.catalog.quick`) does not pay for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"
    WAITING = "waiting"


@dataclass(frozen=True)
class StepView:
    seq: int
    name: str
    status: StepStatus
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    output: str
    error: str | None
    actor: str | None
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """One step of `drkit runs show --json` and of the API."""
        return asdict(self)


@dataclass(frozen=True)
class RunView:
    id: int
    kind: str
    subject: str
    subject_version: str | None
    job: str | None
    trigger: str
    status: RunStatus
    scheduled_for: datetime | None
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    error: str | None
    host: str
    result: dict[str, Any]
    steps: tuple[StepView, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """`drkit runs show --json` and the API's run (no steps in listings)."""
        doc = asdict(self)
        doc["steps"] = [s.to_json() for s in self.steps]
        return doc


__all__ = ["RunStatus", "RunView", "StepStatus", "StepView"]
