"""Restore tests that restore the database, not just the dump file.

For a logical PostgreSQL dump, a restore test restores it into a scratch
server drkit starts and stops itself (:mod:`drkit.verify.scratch_postgres`),
then runs the source's validation queries (``checks:`` of the source in
drkit.yaml, :mod:`drkit.sources.sql_checks`), each as its own step. The
restore test's RTO runs from prepare to the end of the last query, so it is
the time to get a usable database back, import included.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack, suppress
from pathlib import Path

from drkit.errors import DrkitError
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.sources.base import META_TYPE, RestoreRequest
from drkit.sources.errors import SourceUnavailable
from drkit.sources.postgres_conn import PgAddress
from drkit.sources.postgres_logical import PostgresConfig, PostgresLogicalSource
from drkit.sources.registry import PolicySource
from drkit.sources.sql_checks import SqlCheck
from drkit.verify.scratch_postgres import ScratchPostgres
from drkit.verify.steps import StepJournal, StepKind

SERVER_FOLDER = ".drkit-scratch-postgres"


def restores_into_a_server(snapshot: Snapshot) -> bool:
    return snapshot.meta.get(META_TYPE) == "postgres"


def checks_for(snapshot: Snapshot, sources: Sequence[PolicySource]) -> tuple[SqlCheck, ...]:
    """The validation queries of the source that made ``snapshot`` (pure)."""
    root = snapshot.paths[0] if snapshot.paths else ""
    for source in sources:
        if isinstance(source, PostgresConfig) and PostgresLogicalSource(source).root == root:
            return tuple(source.checks)
    return ()


def restore_into_server(
    repo: Repository,
    snapshot: Snapshot,
    scratch: Path,
    checks: Sequence[SqlCheck],
    journal: StepJournal,
    progress: Progress,
) -> None:
    """Start a scratch server, restore the dump into it, run ``checks``; stop it, always."""
    database = snapshot.meta.get("postgres.database") or "restored"
    with ExitStack() as stack:
        with (
            suppress(DrkitError),
            journal.step("start a scratch PostgreSQL server", StepKind.PREPARE) as step,
        ):
            server = stack.enter_context(ScratchPostgres(scratch / SERVER_FOLDER))
            step.detail = f"initdb and start in {server.folder} (Unix socket only)"
        if not journal.ok:
            return
        target = PgAddress.parse(server.dsn).with_database(database)
        with (
            suppress(DrkitError),
            journal.step(f"restore into database {database}", StepKind.RESTORE) as step,
        ):
            request = RestoreRequest(
                repo, snapshot, target.conninfo(), progress=progress, scratch=True
            )
            done = PostgresLogicalSource.restore(request)
            step.detail = f"pg_restore of {done.bytes} bytes into a new database {database}"
        for check in checks:
            if not journal.ok:
                return
            with (
                suppress(DrkitError),
                journal.step(f"validate: {check.sql}", StepKind.VALIDATE) as step,
            ):
                value = _scalar(target, check.sql)
                step.detail = f"{check.sql} -> {value} (minimum {check.min:g})"
                reason = check.verdict(value)
                if reason:
                    step.fail(reason)


def _scalar(target: PgAddress, sql: str) -> object:
    import psycopg

    with target.connect(autocommit=True) as conn:
        try:
            row = conn.execute(sql).fetchone()
        except psycopg.Error as exc:
            raise SourceUnavailable(f"{sql!r} failed: {str(exc).strip()}") from None
    return row[0] if row else None
