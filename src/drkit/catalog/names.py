"""The catalog's table and column names for readers that use sqlite3 without SQLAlchemy.

The ORM's table definitions (``catalog/tables.py`` and the domains' ``tables.py``)
import SQLAlchemy, which costs a listing command more CPU than all of its own
work. The quick readers (:mod:`drkit.catalog.quick` and the domains' ``quick``
modules) name what they read here instead, and
``tests/unit/catalog/test_names.py`` checks every table and column against the
ORM's metadata, so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """One table, the columns a quick reader selects (in that order), and the other columns
    its WHERE and ORDER BY clauses name (checked against the ORM as well)."""

    name: str
    columns: tuple[str, ...]
    filters: tuple[str, ...] = ()

    def select(self, where: str = "", order: str = "") -> str:
        """``SELECT columns FROM name [WHERE ...] [ORDER BY ...]`` (columns quoted)."""
        columns = ", ".join(f'"{c}"' for c in self.columns)
        sql = f'SELECT {columns} FROM "{self.name}"'
        if where:
            sql += f" WHERE {where}"
        if order:
            sql += f" ORDER BY {order}"
        return sql


RUNS = Table(
    "runs",
    (
        "id",
        "kind",
        "subject",
        "subject_version",
        "job",
        "trigger",
        "status",
        "scheduled_for",
        "started_at",
        "finished_at",
        "duration_s",
        "error",
        "host",
        "result_json",
    ),
)
RUN_STEPS = Table(
    "run_steps",
    (
        "seq",
        "name",
        "status",
        "started_at",
        "finished_at",
        "duration_s",
        "output",
        "error",
        "actor",
        "details_json",
    ),
    filters=("id",),
)
RUN_STEPS_RUN = "run_id"
"""The column of ``run_steps`` that names its run."""

JOB_STATE = Table("job_state", ("job", "last_slot"))

CONFIG_VERSIONS = Table(
    "config_versions",
    ("id", "uid", "scope", "author", "created_at", "message", "content_hash", "size", "mode"),
)
CONFIG_HEADS = Table("config_heads", ("scope",))

JOB_RUNS = Table(
    "runs", ("job", "status", "finished_at", "error", "duration_s"), filters=("id", "kind")
)
"""What the monitor's facts take of a job's run (:mod:`drkit.monitor.quick_facts`)."""

SNAPSHOTS_SEEN = Table(
    "snapshots_seen", ("repository", "snapshot_id", "time", "paths", "tags", "gone_at")
)
VERIFICATIONS = Table(
    "verifications",
    (
        "repository",
        "subject",
        "kind",
        "ok",
        "started_at",
        "duration_s",
        "snapshot_id",
        "summary",
        "source",
    ),
    filters=("id",),
)

ALERTS = Table("alerts", ("id", "severity", "summary", "source"), filters=("status", "first_seen"))

VERSIONS = Table("alembic_version", ("version_num",))
"""Alembic's record of the applied migrations (not an ORM table)."""

ORM_TABLES = (
    RUNS,
    RUN_STEPS,
    JOB_STATE,
    CONFIG_VERSIONS,
    CONFIG_HEADS,
    JOB_RUNS,
    SNAPSHOTS_SEEN,
    VERIFICATIONS,
    ALERTS,
)
"""Every table above that the ORM defines (checked against its metadata)."""
