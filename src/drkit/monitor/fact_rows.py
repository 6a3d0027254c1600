"""The catalog rows the monitor's facts are made of, as plain records (no SQLAlchemy).

:func:`drkit.monitor.facts.gather` reads them through the ORM,
:func:`drkit.monitor.quick_facts.quick_rows` with sqlite3 from a current
SQLite catalog (`drkit status`); :func:`drkit.monitor.facts.facts_from` makes
the same facts of either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SeenSnapshot:
    """A snapshot the daemon's scans saw in a repository (``snapshots_seen``)."""

    repository: str
    snapshot_id: str
    time: datetime
    paths: str  # one per line
    tags: str  # one per line
    gone_at: datetime | None


@dataclass(frozen=True)
class CheckRecord:
    """A check, restore test or drill of a repository (``verifications``)."""

    repository: str
    subject: str
    kind: str
    ok: bool
    started_at: datetime
    duration_s: float
    snapshot_id: str | None
    summary: str
    source: str


@dataclass(frozen=True)
class JobRunRecord:
    """The latest finished run of a job that no stop interrupted (``runs``)."""

    job: str
    status: str
    finished_at: datetime | None
    error: str | None
    duration_s: float | None


@dataclass(frozen=True)
class FactRows:
    snapshots: tuple[SeenSnapshot, ...]  # forgotten ones too (gone_at set)
    checks: tuple[CheckRecord, ...]  # oldest first (by id)
    runs: tuple[JobRunRecord, ...]  # by run id
    backed_up: frozenset[str]  # the backup jobs that ever ended on their own
