"""Claiming a job's slot in the catalog before running it: one slot, one run, whoever asks.

Two serves over one catalog (daemon.control_plane) should never both be
active, but a serve frozen past its lease, or a clock gone wrong, could
believe it still is. The claim is the last word: an INSERT on the primary key
(job, slot, attempt), which the database lets exactly one transaction win. A
slot whose run a stop interrupted is claimed anew with the next attempt
number, so the rerun at the next start is allowed (once).
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
    """Who holds the slot now: us when won, else the serve that claimed it first."""


def claim_slot(catalog: Catalog, job: str, slot: datetime, holder: str) -> Claim:
    """Insert the claim of ``job``'s ``slot`` for ``holder``; lost when another has it."""
    attempt = _interrupted_runs(catalog, job, slot)
    try:
        with catalog.session() as session:
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
