"""Errors of database and other sources (exit codes 20-23).

    DrkitError
    └── SourceError                    exit 20
        ├── SourceUnavailable          exit 20  (cannot connect, no such database/file)
        ├── SourceToolMissing          exit 20  (pg_dump, mariadb-dump, redis-cli not found)
        ├── TargetUnavailable          exit 20  (the restore target cannot be reached)
        ├── DumpFailed                 exit 21  (the dump ended badly; no snapshot saved)
        ├── TargetNotEmpty             exit 22  (restore refused without --force)
        ├── RestoreFailed              exit 23  (the restore tool failed)
        └── PasswordFileUnreadable     exit 20  (password_file missing or unreadable)

Drivers translate library and process failures into these at their boundary.
"""

from __future__ import annotations

from pathlib import Path

from drkit.errors import DrkitError
from drkit.secrets import read_secret


class SourceError(DrkitError):
    code = "source"
    exit_code = 20


class SourceUnavailable(SourceError):
    code = "source-unavailable"
    exit_code = 20
    default_hint = "check that the database is running and that the address and credentials work"


class SourceToolMissing(SourceError):
    code = "source-tool-missing"
    exit_code = 20
    default_hint = "install the client tools of the database (see docs/sources.md)"


class TargetUnavailable(SourceError):
    code = "target-unavailable"
    exit_code = 20
    default_hint = "check that the target server is running and that its address works"


class DumpFailed(SourceError):
    code = "dump-failed"
    exit_code = 21
    default_hint = (
        "nothing was recorded; fix what the dump tool reported and run the backup again "
        "(`drkit prune` removes the data already uploaded)"
    )


class TargetNotEmpty(SourceError):
    code = "target-not-empty"
    exit_code = 22
    default_hint = "restore into an empty or new target, or pass --force to restore over it"


class RestoreFailed(SourceError):
    code = "restore-failed"
    exit_code = 23
    default_hint = "fix what the restore tool reported, then restore again (with --force)"


class PasswordFileUnreadable(SourceError):
    code = "password-file-unreadable"
    exit_code = 20
    default_hint = (
        "create the file with the password on its first line, readable by the user running "
        "drkit (chmod 600), or fix password_file / --pg-password-file"
    )


def read_password_file(path: Path, what: str) -> str:
    """The password on the first line of ``path`` (drkit.secrets' one rule; never an OSError)."""
    secret = read_secret(f"the password of {what}", file=path, error=PasswordFileUnreadable)
    assert secret is not None  # a file was named
    return secret


ALL_SOURCE_ERRORS: tuple[type[DrkitError], ...] = (
    SourceError,
    SourceUnavailable,
    SourceToolMissing,
    TargetUnavailable,
    DumpFailed,
    TargetNotEmpty,
    RestoreFailed,
    PasswordFileUnreadable,
)
