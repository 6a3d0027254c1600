"""PostgreSQL logical backups: ``pg_dump --format=custom`` streamed into the repository.

The dump goes from pg_dump's standard output straight into the chunker:
no temporary file, whatever the database's size. It is taken with
``--compress=0`` by default so that drkit's chunks deduplicate between
backups (an unchanged table gives the same bytes) and drkit's zstd does the
compressing; set ``compress`` to have pg_dump compress instead.

Restore pipes the stored dump into ``pg_restore --single-transaction
--exit-on-error``: a failed restore leaves nothing behind in the target, and
a database that drkit created for it is dropped again.

```yaml
sources:
  - {type: postgres, dsn: "postgresql://backup@db1:5432/app", password_file: /etc/drkit/pg.pw}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from drkit.errors import DrkitError
from drkit.plugins import Plugin
from drkit.sources.base import (
    RestoreRequest,
    RestoreResult,
    SourceConfig,
    StreamSource,
    counted,
    main_stream,
)
from drkit.sources.dump_checks import checked, pg_custom
from drkit.sources.errors import SourceUnavailable, TargetNotEmpty, TargetUnavailable
from drkit.sources.postgres_conn import PgAddress
from drkit.sources.postgres_globals import META_GLOBALS, dump_globals, restore_globals
from drkit.sources.process import Command, feed_stdin, stream_stdout
from drkit.sources.sql_checks import SqlCheck

if TYPE_CHECKING:
    import psycopg

    from drkit.repository.stream import StreamArchiver

PACKAGE = "postgresql-client (the version of the server or newer)"

# Objects a database holds beyond what CREATE DATABASE ... TEMPLATE template0 gives it.
_USER_OBJECTS = """
select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname not in ('pg_catalog', 'information_schema')
          and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%')
     + (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname not in ('pg_catalog', 'information_schema'))
"""


class PostgresConfig(SourceConfig):
    """One database of a PostgreSQL server, dumped logically."""

    type: Literal["postgres"] = "postgres"
    dsn: str = Field(  # not in repr(): a DSN may hold a password
        repr=False, description="postgresql://USER@HOST:PORT/DATABASE (or key=value form)."
    )
    checks: list[SqlCheck] = Field(
        default_factory=list,
        description="Queries a restore test runs on the restored database (see sql_checks).",
    )
    password_file: Path | None = Field(default=None, description="File holding the password.")
    bin_dir: Path | None = Field(
        default=None, description="Folder of pg_dump/pg_restore (default: from PATH)."
    )
    compress: int = Field(default=0, ge=0, le=9, description="pg_dump's own compression level.")
    globals_: bool = Field(
        default=False,
        alias="globals",
        description="Also store the server's roles and tablespaces (pg_dumpall --globals-only).",
    )
    connect_timeout: int = Field(default=10, ge=1, description="Seconds to wait for the server.")

    @field_validator("dsn")
    @classmethod
    def _names_a_database(cls, value: str) -> str:
        if not PgAddress.parse(value).dbname:
            raise ValueError("the DSN must name a database, e.g. postgresql://user@host/app")
        return value

    @classmethod
    def from_url(cls, url: str) -> PostgresConfig:
        return cls(dsn=url)

    def address(self) -> PgAddress:
        return PgAddress.parse(self.dsn, self.password_file)

    def describe(self) -> str:
        return f"postgres {self.address().label()}"


def _tool(bin_dir: Path | None, name: str) -> str:
    return str(bin_dir / name) if bin_dir else name


class PostgresLogicalSource(StreamSource[PostgresConfig]):
    type = "postgres"

    @property
    def root(self) -> str:
        address = self.config.address()
        return f"/postgres/{address.endpoint}/{address.dbname}"

    def probe(self) -> dict[str, str]:
        address = self.config.address()
        with address.connect(timeout=self.config.connect_timeout) as conn:
            version = conn.execute("show server_version").fetchone()
        meta = {
            "postgres.format": "custom",
            "postgres.database": address.dbname,
            "postgres.endpoint": address.endpoint,
            "postgres.server_version": str(version[0]) if version else "",
        }
        if self.config.globals_:
            meta[META_GLOBALS] = f"{self.root}/globals.sql"
        return meta

    def dump(self, archiver: StreamArchiver) -> str:
        address = self.config.address()
        if self.config.globals_:
            dump_globals(address, _tool(self.config.bin_dir, "pg_dumpall"), archiver, self.root)
        cmd = Command(
            [
                _tool(self.config.bin_dir, "pg_dump"),
                "--format=custom",
                f"--compress={self.config.compress}",
                "--no-password",
                f"--dbname={address.conninfo()}",
            ],
            env=address.env(),
            package=PACKAGE,
        )
        path = f"{self.root}/{address.dbname}.dump"
        archiver.add(path, checked(stream_stdout(cmd), pg_custom, "pg_dump output"))
        return path

    @classmethod
    def restore(cls, request: RestoreRequest) -> RestoreResult:
        from drkit.repository.stream import find_stream, open_stream

        meta = request.snapshot.meta
        target = PgAddress.parse(request.target)
        if not target.dbname:
            target = target.with_database(meta.get("postgres.database", ""))
        globals_note = restore_globals(request, target, "psql")
        created = _prepare_database(target, request.force)
        stream = main_stream(request.snapshot)
        size = find_stream(request.repo, request.snapshot, stream).size
        cmd = Command(
            [
                "pg_restore",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
                f"--dbname={target.conninfo()}",
                *(["--clean", "--if-exists"] if request.force and not created else []),
                *(["--no-owner", "--no-privileges"] if request.scratch else []),
            ],
            env=target.env(),
            package=PACKAGE,
        )
        blocks = counted(
            open_stream(request.repo, request.snapshot, stream), request.progress, size
        )
        try:
            feed_stdin(cmd, blocks)
        except DrkitError:
            if created:
                _drop_database(target)
            raise
        notes = (globals_note,) if globals_note else ()
        return RestoreResult(target.label(), size, created, notes)


def _prepare_database(target: PgAddress, force: bool) -> bool:
    """Create the target database if missing (True), or check it may be written to."""
    from psycopg import sql

    admin = _admin(target)
    with admin:
        exists = admin.execute(
            "select 1 from pg_database where datname = %s", (target.dbname,)
        ).fetchone()
        if not exists:
            admin.execute(
                sql.SQL("create database {} template template0").format(
                    sql.Identifier(target.dbname)
                )
            )
            return True
    if not force:
        with _target_connection(target) as conn:
            row = conn.execute(_USER_OBJECTS).fetchone()
        if row and row[0]:
            raise TargetNotEmpty(
                f"the database {target.label()} already holds {row[0]} object(s)",
                hint="restore into a new database name, or pass --force to restore over it "
                "(objects of the dump are dropped and recreated)",
            )
    return False


def _admin(target: PgAddress) -> psycopg.Connection[Any]:
    """A connection to the target server's maintenance database."""
    return _target_connection(target.with_database("postgres"), autocommit=True)


def _target_connection(target: PgAddress, autocommit: bool = False) -> psycopg.Connection[Any]:
    try:
        return target.connect(autocommit=autocommit)
    except SourceUnavailable as exc:
        raise TargetUnavailable(exc.message) from None


def _drop_database(target: PgAddress) -> None:
    """Remove a database drkit created for a restore that failed (best effort)."""
    from psycopg import sql

    try:
        with _admin(target) as admin:
            admin.execute(
                sql.SQL("drop database if exists {}").format(sql.Identifier(target.dbname))
            )
    except Exception:  # the restore's own error is the one to report
        pass


PLUGIN = Plugin(
    "postgres", PostgresConfig, PostgresLogicalSource, schemes=("postgres", "postgresql")
)
