"""The runbook engine's own catalog tables: runbook versions and operator requests.

A runbook's journal is an ordinary run with steps (catalog/tables.py); what
the engine adds is the history of every saved change to a runbook, and the
requests operators send to a run from other processes (approve or reject a
manual step, cancel the run), which the runner polls.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from drkit.catalog.tables import Base
from drkit.catalog.types import UTCDateTime


class RunbookVersionRow(Base):
    """One saved version of a runbook: its content as it was, who saved it and when.

    A version may come back (a change reverted): it is then recorded again,
    so the history shows the revert; lookups by version take the newest row.
    """

    __tablename__ = "runbook_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    path: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text)


class RunbookRequestRow(Base):
    """An operator's request to a run: approve/reject a manual step, or cancel the run."""

    __tablename__ = "runbook_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    step: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
