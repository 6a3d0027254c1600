"""Errors of the configuration history (exit codes 50-54; users: drkit.users.errors).

ConfigHistoryError                 exit 50  config-history
├── StructureError                 exit 50  config-unstructured (--by-key on a file
│                                           that does not parse)
├── VersionNotFound                exit 51  config-version-not-found
├── BadReference                   exit 51  config-bad-reference (not an id, time or phrase)
├── SourceAccessError              exit 52  config-source-unreadable (one host or file)
├── CollectionFailed               exit 52  config-collect-failed (names every failure)
├── HistoryKeyMissing              exit 53  config-key-missing
├── HistoryKeyMismatch             exit 53  config-key-mismatch
├── RestoreDeclined                exit 54  config-restore-declined
└── RestoreFailed                  exit 54  config-restore-failed
"""

from __future__ import annotations

from drkit.errors import DrkitError


class ConfigHistoryError(DrkitError):
    code = "config-history"
    exit_code = 50


class StructureError(ConfigHistoryError):
    code = "config-unstructured"
    default_hint = "leave out --by-key to see the line diff"


class VersionNotFound(ConfigHistoryError):
    code = "config-version-not-found"
    exit_code = 51
    default_hint = "`drkit config log` lists the versions and their ids"


class BadReference(ConfigHistoryError):
    code = "config-bad-reference"
    exit_code = 51
    default_hint = (
        "name a version by id (42), a time (2024-05-01, 2024-05-01T14:30) "
        "or a phrase: now, today, yesterday, 2 hours ago, 3 days ago, last week"
    )


class SourceAccessError(ConfigHistoryError):
    """One host or file could not be read or written."""

    code = "config-source-unreadable"
    exit_code = 52

    def __init__(self, host: str, path: str, message: str, *, hint: str | None = None) -> None:
        where = f"{host}:{path}" if path else host
        super().__init__(f"{where}: {message}", hint=hint)
        self.host = host
        self.path = path
        self.reason = message


class CollectionFailed(ConfigHistoryError):
    code = "config-collect-failed"
    exit_code = 52
    default_hint = (
        "the files that could be read were recorded; fix the hosts and paths named "
        "and run `drkit config collect` again"
    )


class HistoryKeyMissing(ConfigHistoryError):
    code = "config-key-missing"
    exit_code = 53


class HistoryKeyMismatch(ConfigHistoryError):
    code = "config-key-mismatch"
    exit_code = 53


class RestoreDeclined(ConfigHistoryError):
    code = "config-restore-declined"
    exit_code = 54
    default_hint = "nothing was changed; pass --yes to restore without the question"


class RestoreFailed(ConfigHistoryError):
    code = "config-restore-failed"
    exit_code = 54
