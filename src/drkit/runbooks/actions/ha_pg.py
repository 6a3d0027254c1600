"""What the PostgreSQL HA actions share: how to reach a server and what state it is in.

:class:`PgServerArgs` is the connection part of every ``postgres.*`` step
(host, port, user, database, password from an environment variable or a
file). :func:`connect` opens an autocommit psycopg connection and turns
psycopg's errors into :class:`ActionFailed` with a hint; :func:`probe` reads
the one fact failover decisions hinge on: is the server reachable, and is it
a writable primary or a replica still in recovery.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, LiteralString

import psycopg
from pydantic import Field, model_validator

from drkit import pgconnect
from drkit.runbooks.actions.base import ActionArgs
from drkit.runbooks.actions.ha_common import Port, read_secret
from drkit.runbooks.errors import ActionFailed


class PgServerArgs(ActionArgs):
    """How to reach one PostgreSQL server (the fields every postgres.* step has)."""

    host: str = Field(min_length=1, description="Host name, address, or Unix socket directory.")
    port: Port = 5432
    user: str = "postgres"
    dbname: str = "postgres"
    password_env: str | None = Field(default=None, description="Variable holding the password.")
    password_file: Path | None = Field(default=None, description="File holding the password.")
    connect_timeout_s: int = Field(default=5, ge=1, le=300)

    @model_validator(mode="after")
    def _one_password_source(self) -> PgServerArgs:
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("give password_env or password_file, not both")
        return self

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class PgState(StrEnum):
    """What a server is, as far as failover cares."""

    PRIMARY = "primary"  # reachable, not in recovery: accepts writes
    REPLICA = "replica"  # reachable, in recovery (a standby)
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class PgProbe:
    """One look at a server: its state, and the error that made it unreachable."""

    state: PgState
    server_version: str = ""
    error: str = ""


def connect(args: PgServerArgs) -> psycopg.Connection[Any]:
    """An autocommit connection, or ActionFailed saying why the server cannot be reached."""
    password = read_secret(env=args.password_env, file=args.password_file, what="database password")
    try:
        return pgconnect.connect(
            host=args.host,
            port=args.port,
            user=args.user,
            dbname=args.dbname,
            password=password,
            timeout_s=args.connect_timeout_s,
            application_name="drkit-runbook",
        )
    except psycopg.Error as exc:
        raise ActionFailed(
            f"cannot connect to PostgreSQL at {args.address}: {first_line(exc)}",
            hint="check that the server runs, listens on that address, and lets this user in "
            "(pg_hba.conf)",
        ) from exc


def probe(args: PgServerArgs) -> PgProbe:
    """Is the server reachable, and is it a primary or a replica? Never raises for a down server."""
    try:
        conn = connect(args)
    except ActionFailed as exc:
        return PgProbe(PgState.UNREACHABLE, error=exc.message)
    try:
        with conn:
            in_recovery, version = fetch_one(conn, "select pg_is_in_recovery(), version()")
    except psycopg.Error as exc:
        return PgProbe(PgState.UNREACHABLE, error=first_line(exc))
    state = PgState.REPLICA if in_recovery else PgState.PRIMARY
    return PgProbe(state, server_version=str(version).split(" on ")[0])


def fetch_one(conn: psycopg.Connection[Any], sql: LiteralString) -> tuple[Any, ...]:
    """The single row of ``sql`` (a query the action wrote, never user input)."""
    row = conn.execute(sql).fetchone()
    if row is None:
        raise ActionFailed(f"PostgreSQL returned no row for {sql!r}", hint="")
    return tuple(row)


def first_line(exc: BaseException) -> str:
    """psycopg messages carry DETAIL/HINT lines; the first line is the one people need."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
