"""Connecting to PostgreSQL: one parsed DSN shared by the dump, the restore and psycopg.

Passwords never reach a command line (where ``ps`` shows them): a password
in the DSN or in ``password_file`` is handed to libpq tools as
``PGPASSWORD`` and to psycopg as a parameter. Without one, libpq's own
sources apply (``PGPASSWORD``, ``~/.pgpass``, trust or peer auth).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drkit.errors import UsageError
from drkit.sources.errors import SourceUnavailable, read_password_file

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class PgAddress:
    """A PostgreSQL server and database from a DSN (URL or ``key=value`` form)."""

    params: tuple[tuple[str, str], ...]  # every DSN parameter except the password
    password: str | None = None

    @classmethod
    def parse(cls, dsn: str, password_file: Path | None = None) -> PgAddress:
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict

        try:
            params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
        except ProgrammingError as exc:
            raise UsageError(
                f"invalid PostgreSQL DSN: {exc}",
                hint="write postgresql://USER@HOST:PORT/DATABASE or 'host=... dbname=...'",
            ) from None
        password = params.pop("password", None)
        if password_file is not None:
            password = read_password_file(password_file, "the PostgreSQL connection")
        return cls(tuple(sorted(params.items())), password)

    def get(self, key: str, default: str = "") -> str:
        return dict(self.params).get(key, default)

    @property
    def dbname(self) -> str:
        return self.get("dbname")

    @property
    def host(self) -> str:
        return self.get("host")

    @property
    def port(self) -> str:
        return self.get("port", "5432")

    @property
    def endpoint(self) -> str:
        """``host:port`` for paths and messages (``local:5432`` for a socket)."""
        host = self.host
        if not host or host.startswith("/"):
            host = "local"
        return f"{host.split(',')[0]}:{self.port}"

    def with_database(self, dbname: str) -> PgAddress:
        params = {**dict(self.params), "dbname": dbname}
        return PgAddress(tuple(sorted(params.items())), self.password)

    def conninfo(self) -> str:
        """The DSN without the password, for command lines."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(**dict(self.params))

    def env(self) -> dict[str, str]:
        return {"PGPASSWORD": self.password} if self.password else {}

    def label(self) -> str:
        return f"{self.endpoint}/{self.dbname}"

    def connect(self, *, timeout: int = 10, autocommit: bool = False) -> psycopg.Connection:
        """A psycopg connection; failures become SourceUnavailable naming the server, with
        the hint of :data:`drkit.errors_map.psycopg.PSYCOPG`."""
        from drkit.errors_map.psycopg import PSYCOPG
        from drkit.pgconnect import connect

        with PSYCOPG.boundary(SourceUnavailable, what=f"PostgreSQL at {self.label()}"):
            return connect(
                self.conninfo(),
                timeout_s=timeout,
                autocommit=autocommit,
                application_name="drkit source",
                password=self.password,  # None is left out of the conninfo
            )
