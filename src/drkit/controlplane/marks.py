"""Marking the runs a serve still has going when it stops being active."""

from __future__ import annotations

import os
import socket

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus, StepStatus
from drkit.catalog.tables import RunRow

MARK_STEP = "control-plane: lease lost"


def mark_running_runs(catalog: Catalog, reason: str) -> list[int]:
    """Add a note step to every run this process has going; return their ids.

    The runs go on (a backup half done is better finished than killed), but
    their journals say they outlived this serve's lease, and another serve
    may be active by the time they end.
    """
    query = select(RunRow.id).where(
        RunRow.status == RunStatus.RUNNING,
        RunRow.host == socket.gethostname(),
        RunRow.pid == os.getpid(),
    )
    with catalog.session() as session:
        run_ids = list(session.scalars(query))
    for run_id in run_ids:
        journal = RunJournal(catalog, run_id)
        step = journal.begin_step(MARK_STEP, status=StepStatus.SKIPPED)
        journal.end_step(step, StepStatus.SKIPPED, output=reason)
    return run_ids
