"""The catalog's tables (SQLAlchemy 2 declarative, typed).

The catalog caches what drkit learns and journals what it does: runs and
their steps (written as the steps happen), snapshots seen in repositories,
verification results, the read-rotation ledger, alerts and notification
deliveries, and the scheduler's memory of what it started. A repository is
never described only here: with its passphrase alone it restores without
the catalog.

Schema changes go through Alembic (``catalog/migrations``); every table
added here needs a migration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from drkit.catalog.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class RunRow(Base):
    """One action: a backup, copy, check, restore test, drill, runbook or failover."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200), default="")
    subject_version: Mapped[str | None] = mapped_column(String(80))
    job: Mapped[str | None] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_s: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int | None] = mapped_column(Integer)
    result_json: Mapped[str] = mapped_column(Text, default="{}")

    steps: Mapped[list[StepRow]] = relationship(
        back_populates="run", order_by="StepRow.seq", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_runs_kind_subject", "kind", "subject"),
        Index("ix_runs_started_at", "started_at"),
        Index("ix_runs_job", "job"),  # migration 0008: the latest run of each job
    )


class StepRow(Base):
    """One step of a run's journal."""

    __tablename__ = "run_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_s: Mapped[float | None] = mapped_column(Float)
    output: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(200))
    details_json: Mapped[str] = mapped_column(Text, default="{}")

    run: Mapped[RunRow] = relationship(back_populates="steps")


class SnapshotRow(Base):
    """A snapshot seen in a repository (a cache: the repository is the truth)."""

    __tablename__ = "snapshots_seen"

    repository: Mapped[str] = mapped_column(String(200), primary_key=True)
    snapshot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    paths: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")
    hostname: Mapped[str] = mapped_column(String(200), default="")
    bytes_added: Mapped[int] = mapped_column(BigInteger, default=0)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VerificationRow(Base):
    """The outcome of one verification of a repository."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    repository: Mapped[str] = mapped_column(String(200), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")  # the policy, if any
    kind: Mapped[str] = mapped_column(String(40))
    ok: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_s: Mapped[float] = mapped_column(Float)
    snapshot_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    # the source a restore test or drill proved (its label, e.g. postgres://h:5432/db);
    # "" for checks, which prove a repository, and for evidence older than migration 0004
    source: Mapped[str] = mapped_column(String(500), default="", server_default="")


class PackCheckRow(Base):
    """When a pack was last read and found good: drives the read-data rotation."""

    __tablename__ = "pack_checks"

    repository_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pack: Mapped[str] = mapped_column(String(128), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean, default=True)


class AlertRow(Base):
    """An alert: open while its condition holds, resolved after."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(300), index=True)
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300), default="")
    details_json: Mapped[str] = mapped_column(Text, default="[]")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notify_count: Mapped[int] = mapped_column(Integer, default=0)
    # an operator took it on (migration 0006): repeats stop until it resolves
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ack_comment: Mapped[str | None] = mapped_column(Text)
    # silenced (migration 0007): not notified before silenced_until, then as still holding
    silenced_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    silenced_by: Mapped[str | None] = mapped_column(String(200))
    silence_reason: Mapped[str | None] = mapped_column(Text)


class DeliveryRow(Base):
    """One notification sent (or not) through one notifier."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    notifier: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    ok: Mapped[bool] = mapped_column(Boolean)
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_s: Mapped[float] = mapped_column(Float)


class JobStateRow(Base):
    """The scheduler's memory: the last slot of each job it started."""

    __tablename__ = "job_state"

    job: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_slot: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_run_id: Mapped[int | None] = mapped_column(Integer)
