"""wal-fetch's exit status as PostgreSQL sees it: only "not archived" may end recovery."""

from __future__ import annotations

import pytest

from drkit.cli.main import command_name
from drkit.errors import IntegrityError, StorageError, UsageError, WrongPassword
from drkit.sources.wal_errors import RESTORE_COMMAND_FATAL, WalDamaged, WalNotArchived
from drkit.sources.wal_push import fetch_failure, restore_command_status


@pytest.mark.parametrize(
    ("status", "expected"),
    [(0, 0), (None, 0), (1, 1), (2, RESTORE_COMMAND_FATAL), (13, RESTORE_COMMAND_FATAL),
     (15, RESTORE_COMMAND_FATAL), ("usage", RESTORE_COMMAND_FATAL)],
)  # fmt: skip
def test_only_not_archived_ends_recovery(status: int | str | None, expected: int) -> None:
    assert restore_command_status(status) == expected


def test_postgres_takes_the_fatal_status_as_fatal() -> None:
    assert RESTORE_COMMAND_FATAL > 125 and RESTORE_COMMAND_FATAL not in (126, 127)


@pytest.mark.parametrize(
    "error",
    [WalDamaged("bad"), StorageError("denied"), WrongPassword("no"), UsageError("x"),
     IntegrityError("y"), RuntimeError("boom")],
)  # fmt: skip
def test_every_failure_but_not_archived_is_fatal(error: Exception) -> None:
    failure = fetch_failure(error)
    assert failure.exit_code == RESTORE_COMMAND_FATAL
    assert "recovery stops here" in failure.message


def test_not_archived_stays_exit_1() -> None:
    assert fetch_failure(WalNotArchived("gone")).exit_code == 1


@pytest.mark.parametrize(
    ("args", "name"),
    [(["wal-fetch", "a", "b"], "wal-fetch"), (["--repo", "r", "wal-fetch", "a"], "wal-fetch"),
     (["--repo=r", "-q", "wal-fetch"], "wal-fetch"), (["pg", "restore"], "pg"), ([], None),
     (["--version"], None)],
)  # fmt: skip
def test_command_name(args: list[str], name: str | None) -> None:
    assert command_name(args) == name
