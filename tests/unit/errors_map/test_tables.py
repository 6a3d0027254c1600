"""Each row of each library's table: the exception it names becomes the drkit error it says."""

from __future__ import annotations

import httpx
import paramiko
import psycopg
import psycopg.errors
import pytest
import sqlalchemy.exc
from paramiko.ssh_exception import NoValidConnectionsError

from drkit.errors import DrkitError, StorageError, TransientStorageError, UsageError
from drkit.errors_map import ErrorTable, Row
from drkit.errors_map.httpx import HTTPX
from drkit.errors_map.paramiko import PARAMIKO
from drkit.errors_map.psycopg import PSYCOPG
from drkit.errors_map.sqlalchemy import SQLALCHEMY

REQUEST = httpx.Request("GET", "http://127.0.0.1:9/x")
RESPONSE = httpx.Response(403, request=REQUEST)


def _op(text: str) -> psycopg.OperationalError:
    return psycopg.OperationalError(text)


# (table, exception, the words the message must hold, a word of the hint, transient)
CASES: list[tuple[ErrorTable, BaseException, str, str, bool]] = [
    (PSYCOPG, _op('connection failed: FATAL:  password authentication failed for user "x"'),
     "the password was refused", "password", False),
    (PSYCOPG, _op("connection failed: fe_sendauth: no password supplied"),
     "none was given", "password_file", False),
    (PSYCOPG, _op('FATAL:  no pg_hba.conf entry for host "10.0.0.1"'),
     "does not let this client in", "pg_hba.conf", False),
    (PSYCOPG, _op('FATAL:  database "nope" does not exist'),
     'database "nope" does not exist', "psql -l", False),
    (PSYCOPG, _op("FATAL:  the database system is starting up"),
     "starting up or shutting down", "again", True),
    (PSYCOPG, _op("connection failed: timeout expired"), "no answer in time", "firewall", True),
    (PSYCOPG, psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
     "the statement was cancelled", "timeout", False),
    (PSYCOPG, psycopg.errors.InsufficientPrivilege("permission denied for table t"),
     "permission denied", "GRANT", False),
    (PSYCOPG, psycopg.errors.UndefinedTable('relation "t" does not exist'),
     'relation "t" does not exist', "search_path", False),
    (PSYCOPG, psycopg.errors.SyntaxError('syntax error at or near "selec"'),
     "the SQL is not valid", "psql", False),
    (PSYCOPG, _op("connection failed: Connection refused\n\tIs the server running?"),
     "Connection refused Is the server running?", "host and port", True),
    (PSYCOPG, psycopg.DataError("invalid input syntax"), "invalid input syntax", "", False),
    (HTTPX, httpx.ReadTimeout("timed out", request=REQUEST), "no answer in time", "timeout",
     True),
    (HTTPX, httpx.ConnectError("All connection attempts failed", request=REQUEST),
     "cannot connect", "host and port", True),
    (HTTPX, httpx.UnsupportedProtocol("Request URL is missing a scheme"),
     "not an http or https URL", "https://", False),
    (HTTPX, httpx.RemoteProtocolError("peer closed", request=REQUEST),
     "the connection failed", "proxy", True),
    (HTTPX, httpx.HTTPStatusError("403 Forbidden", request=REQUEST, response=RESPONSE),
     "refused the request", "403", False),
    (HTTPX, httpx.DecodingError("bad gzip"), "bad gzip", "", False),
    (SQLALCHEMY, sqlalchemy.exc.OperationalError("x", {}, Exception("database is locked")),
     "locked by another process", "PostgreSQL", True),
    (SQLALCHEMY, sqlalchemy.exc.OperationalError("x", {}, Exception("no such table: runs")),
     "no such table", "catalog upgrade", False),
    (SQLALCHEMY, sqlalchemy.exc.OperationalError("x", {}, Exception("could not connect")),
     "cannot be used", "catalog URL", True),
    (SQLALCHEMY, sqlalchemy.exc.IntegrityError("x", {}, Exception("UNIQUE constraint")),
     "conflicts with what is stored", "again", False),
    (SQLALCHEMY, sqlalchemy.exc.ArgumentError("Could not parse URL from string 'x'"),
     "not a database URL", "sqlite:///", False),
    (SQLALCHEMY, sqlalchemy.exc.NoResultFound("No row was found"), "No row was found", "",
     False),
    (PARAMIKO, paramiko.PasswordRequiredException("private key file is encrypted"),
     "the private key is encrypted", "ssh-agent", False),
    (PARAMIKO, paramiko.BadHostKeyException("h", paramiko.RSAKey.generate(1024),
                                            paramiko.RSAKey.generate(1024)),
     "host key is not the one known", "known_hosts", False),
    (PARAMIKO, paramiko.AuthenticationException("Authentication failed."),
     "the login was refused", "authorized_keys", False),
    (PARAMIKO, NoValidConnectionsError({("127.0.0.1", 22): OSError("refused")}),
     "cannot connect", "sshd", True),
    (PARAMIKO, paramiko.ChannelException(1, "Administratively prohibited"),
     "refused a channel", "MaxSessions", True),
    (PARAMIKO, paramiko.SSHException("Error reading SSH protocol banner"),
     "Error reading SSH protocol banner", "again", True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "exc", "words", "hint", "transient"),
    CASES,
    ids=[f"{c[0].library}-{type(c[1]).__name__}-{i}" for i, c in enumerate(CASES)],
)
def test_a_row_translates_its_exception(
    table: ErrorTable, exc: BaseException, words: str, hint: str, transient: bool
) -> None:
    error = table.translate(exc, StorageError, what="the server", transient=TransientStorageError)
    assert error is not None
    assert words in error.message and "the server" in error.message
    assert "\n" not in error.message
    assert hint in error.hint
    assert type(error) is (TransientStorageError if transient else StorageError)


def test_every_row_is_exercised_by_a_case() -> None:
    used = {(id(t), t.row_for(e)) for t, e, *_ in CASES}
    for table in (PSYCOPG, HTTPX, SQLALCHEMY, PARAMIKO):
        for row in table.rows:
            assert (id(table), row) in used, f"{table.library}: no case for {row}"


def test_the_boundary_raises_the_drkit_error_from_the_library_one() -> None:
    cause = _op("connection failed: Connection refused")
    with pytest.raises(StorageError) as caught, PSYCOPG.boundary(StorageError, what="db1"):
        raise cause
    assert caught.value.__cause__ is cause
    assert caught.value.message == "cannot connect to db1: connection failed: Connection refused"


def test_the_boundary_lets_other_exceptions_and_drkit_errors_pass() -> None:
    with pytest.raises(KeyError), PSYCOPG.boundary(StorageError, what="db1"):
        raise KeyError("x")
    with pytest.raises(UsageError), HTTPX.boundary(StorageError, what="db1"):
        raise UsageError("mine")


def test_a_row_of_a_library_not_installed_matches_nothing() -> None:
    table = ErrorTable("ghost", (Row("nosuchlib.Error", "{what}"),))
    assert table.translate(ValueError("x"), DrkitError, what="w") is None
