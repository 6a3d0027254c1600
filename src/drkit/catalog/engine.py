"""Opening the catalog: the engine, the schema at the newest migration, sessions.

SQLite (the default, one file under DRKIT_HOME) runs in WAL mode with a busy
timeout, so the daemon and CLI commands can read and write it at once.
PostgreSQL is picked by URL (``postgresql+psycopg://...``) for HA setups.
Migrations run on open, under a lock where the database has one, so two
processes starting together do not both create the tables.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from drkit.catalog.errors import CatalogNewer, CatalogUnavailable
from drkit.catalog.heads import normalise_url, script_heads

if TYPE_CHECKING:  # Alembic (0.3 s to import) only when the schema is not current
    from alembic.config import Config

log = logging.getLogger(__name__)

_PG_MIGRATION_LOCK = 0x64726B6974  # "drkit": pg_advisory_lock key for migrations


class Catalog:
    """A handle on the catalog database: ``with catalog.session() as s: ...``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Catalog:
        engine = _engine_for(normalise_url(url))
        catalog = cls(engine)
        if migrate:
            catalog.migrate()
        return catalog

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on an exception."""
        try:
            with self._sessions.begin() as session:
                yield session
        except OperationalError as exc:
            raise _unavailable(self.engine, exc) from exc

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A transaction that reads what it then writes (read-modify-write of one row).

        On SQLite it takes the write lock before reading (``BEGIN IMMEDIATE``): the
        driver otherwise reads outside any transaction, and of two writers at once
        one update is lost. On PostgreSQL the caller locks the row it reads
        (``with_for_update()``)."""
        with self.session() as session:
            if self.engine.dialect.name == "sqlite":
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session

    def migrate(self) -> None:
        try:
            with self.engine.begin() as conn:
                _lock_for_migration(conn)
                if _applied_revisions(conn) != script_heads():
                    self._upgrade(conn)
        except SQLAlchemyError as exc:
            raise _unavailable(self.engine, exc) from exc

    def _upgrade(self, conn: Connection) -> None:
        """Alembic decides (imported only here): refuse a newer schema, else migrate."""
        current = _current_heads(conn)
        if current == _head_revisions():
            return
        _refuse_newer(self.engine, current)
        from alembic import command

        log.info("catalog: migrating %s", self.engine.url.render_as_string())
        config = _alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "heads")

    def revisions(self) -> set[str]:
        with self.engine.connect() as conn:
            return _current_heads(conn)

    def close(self) -> None:
        self.engine.dispose()


def _engine_for(url: str) -> Engine:
    """The engine for ``url``; a URL drkit cannot use is a CatalogUnavailable with a hint.

    SQLAlchemy's refusals (no URL, an unknown dialect) go through drkit's SQLAlchemy
    table; a driver that is not installed and a folder that cannot be made are named.
    """
    where = f"the catalog at {_masked(url)}"
    try:
        return _create_engine(url)
    except SQLAlchemyError as exc:
        from drkit.errors_map.sqlalchemy import SQLALCHEMY

        error = SQLALCHEMY.translate(exc, CatalogUnavailable, what=where)
        raise (error or _unavailable_url(where, exc)) from exc
    except ImportError as exc:
        raise CatalogUnavailable(
            f"{where} needs a database driver that is not installed ({exc})",
            hint="drkit's catalog runs on SQLite (sqlite:///PATH, the default) or PostgreSQL "
            "(postgresql://USER@HOST/DB)",
        ) from exc
    except OSError as exc:
        raise CatalogUnavailable(
            f"cannot make the folder of {where}: {exc.strerror or exc}",
            hint="check catalog.url in drkit.yaml (or DRKIT_HOME) and that this user may "
            "write there",
        ) from exc


def _masked(url: str) -> str:
    """``url`` with the password of ``scheme://user:password@`` hidden (it may not parse)."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _unavailable_url(where: str, exc: Exception) -> CatalogUnavailable:
    return CatalogUnavailable(
        f"{where} cannot be used: {exc}", hint="check catalog.url in drkit.yaml"
    )


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _lock_for_migration(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    location = resources.files("drkit.catalog") / "migrations"
    config.set_main_option("script_location", str(location))
    return config


def _head_revisions() -> set[str]:
    # Domains add their tables on their own branches (config history, runbooks, ...):
    # the schema is current when every head is applied.
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(_alembic_config()).get_heads())


def _refuse_newer(engine: Engine, current: set[str]) -> None:
    """An older drkit (a rollback) must not guess at a schema it has never seen."""
    from alembic.script import ScriptDirectory

    known = {
        rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
    }
    unknown = sorted(current - known)
    if unknown:
        where = engine.url.render_as_string(hide_password=True)
        raise CatalogNewer(
            f"the catalog at {where} has schema {'+'.join(unknown)}, newer than this drkit knows",
            hint="a newer drkit migrated it: run that version (drkit --version names the "
            "schema each knows), or restore the catalog copy taken before the upgrade",
        )


def _current_heads(conn: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(conn).get_current_heads())


def _applied_revisions(conn: Connection) -> set[str] | None:
    """The revisions in alembic_version, or None when the table is not there yet."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def _unavailable(engine: Engine, exc: Exception) -> CatalogUnavailable:
    where = engine.url.render_as_string(hide_password=True)
    reason = str(exc).splitlines()[0]
    if "database is locked" in reason:
        hint = (
            "another process has held the catalog's write lock for 30 s (a long transaction, "
            "or a sqlite3 shell left open in a transaction): end it (`fuser` on the catalog "
            "file names it), then try again"
        )
    else:
        hint = (
            "check the catalog URL in drkit.yaml (catalog.url), that the database server "
            "is up, and that DRKIT_HOME is writable"
        )
    return CatalogUnavailable(f"the catalog at {where} cannot be used: {reason}", hint=hint)
