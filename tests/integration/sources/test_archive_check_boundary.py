"""`pg check` waiting for a segment while its session is ended: a SourceUnavailable with a hint.

The machine's PostgreSQL; the check's session runs in a database of its own, so
ending it (pg_terminate_backend) touches no other test's sessions. Before the
psycopg table was applied around the wait, psycopg's OperationalError escaped.
"""

from __future__ import annotations

from collections.abc import Callable

from psycopg import sql

from drkit.repository.repo import Repository
from drkit.sources.errors import SourceUnavailable
from drkit.sources.postgres_conn import PgAddress
from drkit.sources.wal_archive import WalArchive
from drkit.sources.wal_archive_check import check_archiving
from drkit.storage.memory import MemoryBackend
from tests.fixtures.databases import (  # noqa: F401  (provides `pg_names`)
    pg_admin,
    pg_create,
    pg_names_fixture,
)


def test_a_session_ended_during_the_wait_is_a_source_error_with_a_hint(
    pg_names: Callable[[], str],
) -> None:
    name = pg_names()
    address = PgAddress.parse(pg_create(name))
    archive = WalArchive(Repository.init(MemoryBackend(), "pw"))
    ticks = iter([0.0, 0.0, 1000.0])  # started, one wait, then past the timeout

    def end_the_session(_: float) -> None:
        with pg_admin() as admin:
            admin.execute(
                sql.SQL(
                    "select pg_terminate_backend(pid) from pg_stat_activity where datname = {}"
                ).format(sql.Literal(name))
            )

    try:
        check_archiving(
            address, archive, timeout=60, clock=lambda: next(ticks), sleep=end_the_session
        )
    except SourceUnavailable as exc:
        error = exc
    else:
        raise AssertionError("the check went on over an ended session")
    assert "PostgreSQL at" in error.message and error.hint
    assert "server runs" in error.hint
