"""The scheduler's memory in the catalog: the last slot each job ran for, and how runs ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus
from drkit.catalog.tables import JobStateRow, RunRow


def load_slots(catalog: Catalog) -> dict[str, datetime | None]:
    with catalog.session() as session:
        return {row.job: row.last_slot for row in session.scalars(select(JobStateRow))}


def save_slot(catalog: Catalog, job: str, slot: datetime, run_id: int | None = None) -> None:
    with catalog.session() as session:
        row = session.get(JobStateRow, job)
        if row is None:
            session.add(JobStateRow(job=job, last_slot=slot, last_run_id=run_id))
            return
        if row.last_slot is None or slot > row.last_slot:  # never move back (a skipped slot)
            row.last_slot = slot
        if run_id is not None:
            row.last_run_id = run_id


def interrupted_jobs(catalog: Catalog) -> set[str]:
    """The jobs whose latest finished run was interrupted (a shutdown, a killed daemon)."""
    latest: dict[str, str] = {}
    query = (
        select(RunRow.job, RunRow.status)
        .where(RunRow.job.is_not(None), RunRow.status != RunStatus.RUNNING)
        .order_by(RunRow.id)
    )
    with catalog.session() as session:
        for job, status in session.execute(query):
            latest[str(job)] = status
    return {job for job, status in latest.items() if status == RunStatus.INTERRUPTED}


def has_succeeded(catalog: Catalog, job: str) -> bool:
    query = select(RunRow.id).where(RunRow.job == job, RunRow.status == RunStatus.SUCCEEDED)
    with catalog.session() as session:
        return session.scalars(query.limit(1)).first() is not None
