"""Restore tests that restore the database, not just the dump file.

For a logical PostgreSQL dump, a restore test restores it into a scratch
server drkit starts and stops itself (:mod:`drkit.verify.scratch_postgres`),
then runs the source's validation queries (``checks:`` of the source in
drkit.yaml, :mod:`drkit.sources.sql_checks`), each as its own step. The
restore test's RTO runs from prepare to the end of the last query, so it is
the time to get a usable database back, import included. A Redis snapshot's
RDB is loaded into a scratch redis-server (:mod:`drkit.verify.scratch_redis`)
and checked with the source's commands (``DBSIZE`` at least 1 by default).
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
from drkit.sources.mariadb import MariadbConfig, MariadbSource
from drkit.sources.pitr_restore import restore_snapshot_latest
from drkit.sources.postgres_conn import PgAddress
from drkit.sources.postgres_logical import PostgresConfig, PostgresLogicalSource
from drkit.sources.postgres_physical import PostgresPhysicalConfig, PostgresPhysicalSource
from drkit.sources.postgres_physical_meta import SOURCE_TYPE as PHYSICAL
from drkit.sources.redis import RDB_NAME, RedisConfig, RedisSource
from drkit.sources.redis_checks import RedisCheck
from drkit.sources.registry import PolicySource
from drkit.sources.sql_checks import SqlCheck
from drkit.verify.scratch_mariadb import ScratchMariadb
from drkit.verify.scratch_postgres import ScratchPostgres
from drkit.verify.scratch_redis import ScratchRedis
from drkit.verify.steps import StepJournal, StepKind

SERVER_FOLDER = ".drkit-scratch-postgres"
REDIS_FOLDER = ".drkit-scratch-redis"
REDIS = "redis"
MARIADB_FOLDER = ".drkit-scratch-mariadb"
MARIADB = "mariadb"


def restores_into_a_server(snapshot: Snapshot) -> bool:
    return snapshot.meta.get(META_TYPE) in ("postgres", PHYSICAL, REDIS, MARIADB)


Check = SqlCheck | RedisCheck


def checks_for(snapshot: Snapshot, sources: Sequence[PolicySource]) -> tuple[Check, ...]:
    """The validation queries of the source that made ``snapshot`` (pure)."""
    root = snapshot.paths[0] if snapshot.paths else ""
    for source in sources:
        if isinstance(source, RedisConfig) and RedisSource(source).root == root:
            return tuple(source.checks)
        if isinstance(source, MariadbConfig) and MariadbSource(source).root == root:
            return tuple(source.checks)
        if isinstance(source, PostgresConfig) and PostgresLogicalSource(source).root == root:
            return tuple(source.checks)
        if isinstance(source, PostgresPhysicalConfig) and _physical_root(source) == root:
            return tuple(source.checks)
    return ()


def _physical_root(source: PostgresPhysicalConfig) -> str:
    return PostgresPhysicalSource(source).root


def database_restore(
    repo: Repository,
    snapshot: Snapshot,
    scratch: Path,
    checks: Sequence[Check],
    journal: StepJournal,
    progress: Progress,
) -> None:
    """The database restore a snapshot's type calls for (see the module doc)."""
    kind = snapshot.meta.get(META_TYPE)
    if kind == REDIS:
        redis_checks = [c for c in checks if isinstance(c, RedisCheck)]
        load_into_redis(repo, snapshot, scratch, redis_checks, journal, progress)
        return
    sql = [c for c in checks if isinstance(c, SqlCheck)]
    if kind == MARIADB:
        restore_into_mariadb(repo, snapshot, scratch, sql, journal, progress)
    elif kind == PHYSICAL:
        recover_into_server(repo, snapshot, scratch, sql, journal, progress)
    else:
        restore_into_server(repo, snapshot, scratch, sql, journal, progress)


def restore_into_mariadb(
    repo: Repository,
    snapshot: Snapshot,
    scratch: Path,
    checks: Sequence[SqlCheck],
    journal: StepJournal,
    progress: Progress,
) -> None:
    """Start a scratch mariadbd, import the dump into it, run ``checks``; stop it, always."""
    database = snapshot.meta.get("mariadb.database") or "restored"
    with ExitStack() as stack:
        with (
            suppress(DrkitError),
            journal.step("start a scratch MariaDB server", StepKind.PREPARE) as step,
        ):
            server = stack.enter_context(ScratchMariadb(scratch / MARIADB_FOLDER))
            step.detail = f"mariadb-install-db and mariadbd in {server.folder} (Unix socket only)"
        if not journal.ok:
            return
        url = server.url(database)
        with (
            suppress(DrkitError),
            journal.step(f"restore into database {database}", StepKind.RESTORE) as step,
        ):
            request = RestoreRequest(repo, snapshot, url, progress=progress, scratch=True)
            done = MariadbSource.restore(request)
            step.detail = f"import of {done.bytes} bytes into a new database {database}"
        for check in checks:
            if not journal.ok:
                return
            with (
                suppress(DrkitError),
                journal.step(f"validate: {check.sql}", StepKind.VALIDATE) as step,
            ):
                value = _mariadb_scalar(url, check.sql)
                step.detail = f"{check.sql} -> {value} (minimum {check.min:g})"
                reason = check.verdict(value)
                if reason:
                    step.fail(reason)


def _mariadb_scalar(url: str, sql: str) -> object:
    import pymysql

    conn = MariadbConfig.from_url(url).connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
    except pymysql.err.MySQLError as exc:
        raise SourceUnavailable(f"{sql!r} failed: {exc.args[-1]}") from None
    finally:
        conn.close()
    return row[0] if row else None


def load_into_redis(
    repo: Repository,
    snapshot: Snapshot,
    scratch: Path,
    checks: Sequence[RedisCheck],
    journal: StepJournal,
    progress: Progress,
) -> None:
    """Restore the RDB, load it into a scratch redis-server, run ``checks`` (DBSIZE at
    least 1 when the source names none: an empty dataset is no restore); stop it, always."""
    folder = scratch / REDIS_FOLDER
    with ExitStack() as stack:
        with (
            suppress(DrkitError),
            journal.step("load the RDB into redis-server", StepKind.RESTORE) as step,
        ):
            done = RedisSource.restore(
                RestoreRequest(repo, snapshot, str(folder), progress=progress, scratch=True)
            )
            server = stack.enter_context(ScratchRedis(folder, RDB_NAME))
            step.detail = f"{done.bytes} bytes loaded by a scratch redis-server (Unix socket only)"
        if not journal.ok:
            return
        for check in checks or (RedisCheck(),):
            if not journal.ok:
                return
            with (
                suppress(DrkitError),
                journal.step(f"validate: {check.command}", StepKind.VALIDATE) as step,
            ):
                value = _redis_reply(server, check)
                step.detail = f"{check.command} -> {value} (minimum {check.min:g})"
                reason = check.verdict(value)
                if reason:
                    step.fail(reason)


def _redis_reply(server: ScratchRedis, check: RedisCheck) -> object:
    import redis

    with server.client() as client:
        try:
            return client.execute_command(*check.argv)
        except redis.RedisError as exc:
            raise SourceUnavailable(f"{check.command!r} failed: {exc}") from None


def recover_into_server(
    repo: Repository,
    snapshot: Snapshot,
    scratch: Path,
    checks: Sequence[SqlCheck],
    journal: StepJournal,
    progress: Progress,
) -> None:
    """A base backup: unpack it, recover it with the archived WAL on a private socket until
    it promotes, run ``checks``; the server is stopped whatever happens."""
    folder = scratch / SERVER_FOLDER
    datadir = folder / "pgdata"
    with ExitStack() as stack:
        with (
            suppress(DrkitError),
            journal.step("restore the base backup and its WAL", StepKind.RESTORE) as step,
        ):
            folder.mkdir(parents=True, exist_ok=True)
            done = restore_snapshot_latest(
                RestoreRequest(repo, snapshot, str(datadir), progress=progress)
            )
            step.detail = f"{done.bytes} bytes into {datadir}; every WAL segment authenticated"
        if not journal.ok:
            return
        with suppress(DrkitError), journal.step("recover and promote", StepKind.RESTORE) as step:
            server = stack.enter_context(ScratchPostgres(folder, datadir=datadir))
            seconds = server.wait_promoted()
            step.detail = f"WAL replayed to its end and promoted in {seconds:.1f} s"
        target = PgAddress.parse(server.dsn) if journal.ok else None
        _run_checks(target, checks, journal)


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
        _run_checks(target, checks, journal)


def _run_checks(target: PgAddress | None, checks: Sequence[SqlCheck], journal: StepJournal) -> None:
    for check in checks:
        if target is None or not journal.ok:
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
    from drkit.errors_map.psycopg import PSYCOPG

    with (
        target.connect(autocommit=True) as conn,
        PSYCOPG.boundary(SourceUnavailable, what=f"the check {sql!r}"),
    ):
        row = conn.execute(sql).fetchone()
    return row[0] if row else None
