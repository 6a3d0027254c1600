"""MariaDB (and MySQL) logical backups: ``mariadb-dump --single-transaction``, streamed.

``--single-transaction`` gives a consistent snapshot of InnoDB tables
without locking them; ``--routines --events --triggers`` keep the code
stored in the database; ``--skip-dump-date`` keeps an unchanged database's
dump byte-identical, so it deduplicates. The dump names no database (no
``CREATE DATABASE``/``USE``), so it restores into any database name.

Restore pipes the dump into the ``mariadb`` client. MariaDB cannot roll back
DDL, so a failed restore into a database drkit created drops that database
again; a failed forced restore over an existing database may leave it
half-restored (the error says so).

```yaml
sources:
  - {type: mariadb, host: db1, port: 3306, user: backup, password_file: /etc/drkit/my.pw,
     database: shop}
```
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, unquote, urlparse

from pydantic import Field

from drkit.errors import DrkitError, UsageError
from drkit.plugins import Plugin
from drkit.sources.base import (
    RestoreRequest,
    RestoreResult,
    SourceConfig,
    StreamSource,
    counted,
    main_stream,
)
from drkit.sources.dump_checks import checked, mariadb_sql
from drkit.sources.errors import (
    SourceUnavailable,
    TargetNotEmpty,
    TargetUnavailable,
    read_password_file,
)
from drkit.sources.mariadb_routines import RoutineCounter
from drkit.sources.process import Command, feed_stdin, stream_stdout
from drkit.sources.sql_checks import SqlCheck

if TYPE_CHECKING:
    import pymysql

    from drkit.repository.stream import StreamArchiver

log = logging.getLogger("drkit.sources.mariadb")
PACKAGE = "mariadb-client"


class MariadbConfig(SourceConfig):
    """One database of a MariaDB or MySQL server."""

    type: Literal["mariadb"] = "mariadb"
    host: str = Field(default="127.0.0.1", description="Server address.")
    port: int = Field(default=3306, ge=1, le=65535, description="Server port.")
    socket: Path | None = Field(default=None, description="UNIX socket instead of host/port.")
    user: str = Field(default="root", description="User name.")
    password: str | None = Field(
        default=None, repr=False, description="Password (prefer password_file)."
    )
    password_file: Path | None = Field(default=None, description="File holding the password.")
    database: str = Field(min_length=1, description="The database to back up.")
    connect_timeout: int = Field(default=10, ge=1, description="Seconds to wait for the server.")
    checks: list[SqlCheck] = Field(
        default_factory=list,
        description="Queries a restore test runs on the restored database (see sql_checks).",
    )

    @classmethod
    def from_url(cls, url: str, database: str = "") -> MariadbConfig:
        """``mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE`` (``mysql://`` too);
        ``?socket=PATH`` connects through a UNIX socket instead."""
        parsed = urlparse(url)
        name = unquote(parsed.path.lstrip("/")) or database
        if not name:
            raise UsageError(
                f"{url} names no database", hint="write mariadb://USER@HOST:PORT/DATABASE"
            )
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 3306,
            user=unquote(parsed.username or "root"),
            password=unquote(parsed.password) if parsed.password else None,
            database=name,
            socket=next(iter(parse_qs(parsed.query).get("socket", [])), None),
        )

    @property
    def endpoint(self) -> str:
        return "local" if self.socket else f"{self.host}:{self.port}"

    def secret(self) -> str | None:
        if self.password_file is not None:
            return read_password_file(self.password_file, f"the mariadb source {self.host}")
        return self.password

    def client_args(self) -> list[str]:
        """Connection options shared by mariadb-dump and mariadb (no password)."""
        where = (
            [f"--socket={self.socket}"]
            if self.socket
            else ["--protocol=TCP", f"--host={self.host}", f"--port={self.port}"]
        )
        return [*where, f"--user={self.user}"]

    def env(self) -> dict[str, str]:
        secret = self.secret()
        return {"MYSQL_PWD": secret} if secret else {}

    def describe(self) -> str:
        return f"mariadb {self.endpoint}/{self.database}"

    def connect(self, *, database: bool = True) -> pymysql.connections.Connection[Any]:
        import pymysql

        try:
            return pymysql.connect(
                host=self.host,
                port=self.port,
                unix_socket=str(self.socket) if self.socket else None,
                user=self.user,
                password=self.secret() or "",
                database=self.database if database else None,
                connect_timeout=self.connect_timeout,
                autocommit=True,
            )
        except pymysql.err.MySQLError as exc:
            raise SourceUnavailable(
                f"cannot connect to MariaDB at {self.endpoint}/{self.database}: {exc.args[-1]}"
            ) from None


class MariadbSource(StreamSource[MariadbConfig]):
    _routines: int = 0  # what the server lists for the database, read by probe()
    type = "mariadb"

    @property
    def root(self) -> str:
        return f"/mariadb/{self.config.endpoint}/{self.config.database}"

    def probe(self) -> dict[str, str]:
        with self.config.connect() as conn, conn.cursor() as cur:
            cur.execute("select version()")
            row = cur.fetchone()
            cur.execute(_SCHEMA_FACTS, (self.config.database,) * 2)
            facts = cur.fetchone() or ("", "", 0)
            self._routines = max(int(facts[2] or 0), _proc_count(cur, self.config.database))
        return {
            "mariadb.database": self.config.database,
            "mariadb.endpoint": self.config.endpoint,
            "mariadb.server_version": str(row[0]) if row else "",
            "mariadb.charset": str(facts[0] or ""),
            "mariadb.collation": str(facts[1] or ""),
            "mariadb.routines": str(self._routines),
        }

    def dump(self, archiver: StreamArchiver) -> str:
        cmd = Command(
            [
                "mariadb-dump",
                *self.config.client_args(),
                "--single-transaction",
                "--routines",
                "--events",
                "--triggers",
                "--hex-blob",
                "--skip-dump-date",
                "--default-character-set=utf8mb4",
                self.config.database,
            ],
            env=self.config.env(),
            package=PACKAGE,
        )
        path = f"{self.root}/{self.config.database}.sql"
        counter = RoutineCounter()
        stream = checked(counter.watch(stream_stdout(cmd)), mariadb_sql, "mariadb-dump output")
        archiver.add(path, stream)
        counter.require(getattr(self, "_routines", 0), self.config.database)
        return path

    @classmethod
    def restore(cls, request: RestoreRequest) -> RestoreResult:
        from drkit.repository.stream import find_stream, open_stream

        target = MariadbConfig.from_url(
            request.target, request.snapshot.meta.get("mariadb.database", "")
        )
        meta = request.snapshot.meta
        created = _prepare_database(
            target,
            request.force,
            meta.get("mariadb.charset", ""),
            meta.get("mariadb.collation", ""),
        )
        stream = main_stream(request.snapshot)
        size = find_stream(request.repo, request.snapshot, stream).size
        cmd = Command(
            [
                "mariadb",
                *target.client_args(),
                f"--connect-timeout={target.connect_timeout}",
                "--binary-mode",
                f"--database={target.database}",
            ],
            env=target.env(),
            package=PACKAGE,
        )
        blocks = open_stream(request.repo, request.snapshot, stream)
        try:
            feed_stdin(cmd, counted(blocks, request.progress, size))
        except DrkitError as exc:
            if created:
                _drop_database(target)
            elif request.force:
                exc.message += f" (the database {target.database} may be partly restored)"
            raise
        return RestoreResult(f"{target.endpoint}/{target.database}", size, created)


_SCHEMA_FACTS = """
select default_character_set_name, default_collation_name,
       (select count(*) from information_schema.routines where routine_schema = %s)
from information_schema.schemata where schema_name = %s
"""


def _proc_count(cur: Any, database: str) -> int:
    """Routines of ``database`` in mysql.proc (all of them, whatever the user may execute);
    without the privilege to read it, the dump cannot hold them: say so."""
    import pymysql

    try:
        cur.execute("select count(*) from mysql.proc where db = %s", (database,))
    except pymysql.MySQLError:
        log.warning(
            "the backup user cannot read mysql.proc: procedures and functions of %s that it "
            "may not execute are left out of the dump without notice (grant SELECT ON "
            "mysql.proc, see docs/sources.md)",
            database,
        )
        return 0
    row = cur.fetchone()
    return int(row[0]) if row else 0


def _defaults(charset: str, collation: str) -> str:
    """``CHARACTER SET x COLLATE y`` for names that are plain identifiers (from the server)."""
    parts = []
    if charset.replace("_", "").isalnum():
        parts.append(f" character set {charset}")
    if collation.replace("_", "").isalnum():
        parts.append(f" collate {collation}")
    return "".join(parts)


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _prepare_database(
    target: MariadbConfig, force: bool, charset: str = "", collation: str = ""
) -> bool:
    """Create the target database if missing (True), with the source database's default
    character set and collation, or check it may be written to."""
    try:
        conn = target.connect(database=False)
    except SourceUnavailable as exc:
        raise TargetUnavailable(exc.message) from None
    with conn, conn.cursor() as cur:
        cur.execute(
            "select count(*) from information_schema.schemata where schema_name = %s",
            (target.database,),
        )
        row = cur.fetchone()
        if not row or not row[0]:
            cur.execute(f"create database {_quote(target.database)}{_defaults(charset, collation)}")
            return True
        cur.execute(
            "select (select count(*) from information_schema.tables where table_schema = %s)"
            " + (select count(*) from information_schema.routines where routine_schema = %s)",
            (target.database, target.database),
        )
        row = cur.fetchone()
    if row and row[0] and not force:
        raise TargetNotEmpty(
            f"the database {target.database} at {target.endpoint} already holds "
            f"{row[0]} table(s) or routine(s)",
            hint="restore into a new database name, or pass --force to restore over it "
            "(tables of the dump are dropped and recreated)",
        )
    return False


def _drop_database(target: MariadbConfig) -> None:
    """Remove a database drkit created for a restore that failed (best effort)."""
    try:
        with target.connect(database=False) as conn, conn.cursor() as cur:
            cur.execute(f"drop database if exists {_quote(target.database)}")
    except Exception:  # the restore's own error is the one to report
        pass


PLUGIN = Plugin("mariadb", MariadbConfig, MariadbSource, schemes=("mariadb", "mysql"))
