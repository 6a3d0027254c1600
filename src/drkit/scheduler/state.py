"""The scheduler's memory in the catalog: the last slot each job ran for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.tables import JobStateRow


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
