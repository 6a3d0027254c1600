"""Claiming a job's slot in the catalog before running it: one slot, one run, whoever asks.

Two serves over one catalog (daemon.control_plane) should never both be
active, but a serve frozen past its lease, or a clock gone wrong, could
believe it still is. The claim is the last word: an INSERT on the primary key
(job, slot, attempt), which the database lets exactly one transaction win. A
slot whose run a stop interrupted is claimed anew with the next attempt
number, so the rerun at the next start is allowed (once). A claim of a slot
older than one already claimed is refused too: the decision behind it is
stale (a serve frozen between deciding and starting, while the next active
one ran a newer slot of the job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus
from drkit.catalog.tables import JobSlotClaimRow, RunRow
from drkit.catalog.types import utcnow


@dataclass(frozen=True)
class Claim:
    won: bool
    holder: str
    """Who holds the slot now: us when won, else the serve that claimed it (or a newer one)."""
    newer: datetime | None = None
    """When lost to a newer slot's claim: that slot."""

    def why_lost(self) -> str:
        if self.newer is not None:
            return f"{self.holder} claimed the newer {self.newer:%Y-%m-%d %H:%M} slot already"
        return f"{self.holder} claimed it already (never twice)"


def claim_slot(catalog: Catalog, job: str, slot: datetime, holder: str) -> Claim:
    """Insert the claim of ``job``'s ``slot`` for ``holder``; lost when another has it."""
    attempt = _interrupted_runs(catalog, job, slot)
    try:
        with catalog.session() as session:
            newer = session.execute(
                select(JobSlotClaimRow.slot, JobSlotClaimRow.holder)
                .where(JobSlotClaimRow.job == job, JobSlotClaimRow.slot > slot)
                .order_by(JobSlotClaimRow.slot.desc())
                .limit(1)
            ).first()
            if newer is not None:
                return Claim(False, newer.holder, newer.slot)
            session.add(
                JobSlotClaimRow(
                    job=job, slot=slot, attempt=attempt, holder=holder, claimed_at=utcnow()
                )
            )
    except IntegrityError:
        with catalog.session() as session:
            row = session.get(JobSlotClaimRow, (job, slot, attempt))
            return Claim(False, row.holder if row is not None else "another serve")
    return Claim(True, holder)


def _interrupted_runs(catalog: Catalog, job: str, slot: datetime) -> int:
    query = select(func.count(RunRow.id)).where(
        RunRow.job == job, RunRow.scheduled_for == slot, RunRow.status == RunStatus.INTERRUPTED
    )
    with catalog.session() as session:
        return int(session.scalar(query) or 0)
