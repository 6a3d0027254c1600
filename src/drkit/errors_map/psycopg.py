"""psycopg (PostgreSQL) exceptions: connection failures read from libpq's text, then SQLSTATEs."""

from __future__ import annotations

from drkit.errors_map.base import ErrorTable, Row

_SERVER = "check that the server runs and that host and port are right"

PSYCOPG = ErrorTable(
    "psycopg",
    (
        # psycopg raises OperationalError for every failed connection; libpq's text says why
        Row(
            "psycopg.OperationalError",
            "cannot connect to {what}: the password was refused ({detail})",
            "check the password (password_file, PGPASSWORD or the DSN)",
            contains="password authentication failed",
        ),
        Row(
            "psycopg.OperationalError",
            "cannot connect to {what}: the server asks for a password and none was given",
            "give one with password_file (drkit.yaml) or --pg-password-file",
            contains="no password supplied",
        ),
        Row(
            "psycopg.OperationalError",
            "cannot connect to {what}: the server does not let this client in ({detail})",
            "add a line for this host, user and database to pg_hba.conf and reload the server",
            contains="pg_hba.conf",
        ),
        Row(
            "psycopg.OperationalError",
            "cannot connect to {what}: {detail}",
            "check the database name in the DSN (`psql -l` lists them)",
            contains="does not exist",
        ),
        Row(
            "psycopg.OperationalError",
            "cannot connect to {what}: the server is starting up or shutting down ({detail})",
            "try again in a moment",
            contains="the database system is",
            transient=True,
        ),
        Row(
            "psycopg.OperationalError",
            "cannot connect to {what}: no answer in time ({detail})",
            _SERVER + "; a firewall may drop the packets",
            contains="timeout expired",
            transient=True,
        ),
        Row(
            "psycopg.errors.QueryCanceled",
            "{what}: the statement was cancelled ({detail})",
            "it ran past its statement timeout: raise the timeout, or look for locks (pg_locks)",
        ),
        Row(
            "psycopg.errors.InsufficientPrivilege",
            "{what}: permission denied ({detail})",
            "grant the role the privilege the statement needs (GRANT ... TO role)",
        ),
        Row(
            "psycopg.errors.UndefinedTable",
            "{what}: {detail}",
            "check the table's name and schema (search_path) in the query",
        ),
        Row(
            "psycopg.errors.SyntaxError",
            "{what}: the SQL is not valid ({detail})",
            "run the query in psql to see where it breaks",
        ),
        Row(
            "psycopg.OperationalError",
            "cannot connect to {what}: {detail}",
            _SERVER,
            transient=True,
        ),
        Row("psycopg.Error", "{what}: {detail}"),
    ),
)
