"""The recorded recovery times of restore tests and backup drills, per policy, repository
and source: what a chart of the RTO over time reads (read only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.tables import VerificationRow

RECOVERY_KINDS = ("restore-test", "drill")


@dataclass(frozen=True)
class RecoveryTime:
    """One restore test or drill of one source from one repository."""

    id: int
    run_id: int | None
    policy: str
    repository: str
    source: str
    kind: str
    ok: bool
    started_at: datetime
    duration_s: float
    summary: str


def recovery_times(
    catalog: Catalog, *, kinds: tuple[str, ...] = RECOVERY_KINDS, limit: int = 5000
) -> list[RecoveryTime]:
    """The newest ``limit`` recorded recovery times of ``kinds``, oldest first."""
    query = (
        select(VerificationRow)
        .where(VerificationRow.kind.in_(kinds))
        .order_by(VerificationRow.id.desc())
        .limit(limit)
    )
    with catalog.session() as session:
        rows = list(session.scalars(query))
    return [_view(r) for r in reversed(rows)]


def _view(r: VerificationRow) -> RecoveryTime:
    return RecoveryTime(
        r.id, r.run_id, r.subject, r.repository, r.source, r.kind, r.ok,
        r.started_at, r.duration_s, r.summary,
    )  # fmt: skip
