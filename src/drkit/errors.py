"""The one error tree of drkit.

Every failure a user can meet is a :class:`DrkitError` with a stable ``code``,
a message a person understands, a ``hint`` saying how to fix it, and the exit
code the CLI ends with. Drivers translate library exceptions at their boundary
(``raise StorageError(...) from exc``); nothing above them sees raw ``OSError``.

    DrkitError                         exit 1
    ├── UsageError                     exit 2
    ├── ConfigError                    exit 2   (drkit.yaml, file:line)
    ├── IncompleteError                exit 3   (backup or restore finished with gaps)
    ├── RepositoryError                exit 1
    │   ├── RepositoryNotFound         exit 10
    │   ├── RepositoryExists           exit 1
    │   ├── RepositoryLocked           exit 11
    │   ├── WrongPassword              exit 12
    │   ├── IntegrityError             exit 13  (damaged objects; check found problems)
    │   ├── SnapshotNotFound           exit 14
    │   └── UnsupportedFormat          exit 1
    ├── StorageError                   exit 15
    │   ├── ObjectNotFound             exit 15
    │   ├── TransientStorageError      exit 15  (retried by the retry wrapper)
    │   ├── StorageReadOnly            exit 15  (writes refused: read-only repository)
    │   └── StorageFull                exit 16
    └── Interrupted                    exit 130
"""

from __future__ import annotations


class DrkitError(Exception):
    """Base of all errors drkit reports to a user."""

    code: str = "error"
    exit_code: int = 1
    default_hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, str | int]:
        return {
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "exit_code": self.exit_code,
        }


class UsageError(DrkitError):
    code = "usage"
    exit_code = 2


class ConfigError(DrkitError):
    code = "config-invalid"
    exit_code = 2
    default_hint = "fix the file and run the command again"


class IncompleteError(DrkitError):
    code = "incomplete"
    exit_code = 3


class RepositoryError(DrkitError):
    code = "repository"


class RepositoryNotFound(RepositoryError):
    code = "repository-not-found"
    exit_code = 10
    default_hint = "check --repo / DRKIT_REPO, or create one with `drkit init`"


class RepositoryExists(RepositoryError):
    code = "repository-exists"
    default_hint = "choose an empty location, or use the existing repository as it is"


class RepositoryLocked(RepositoryError):
    code = "repository-locked"
    exit_code = 11
    default_hint = (
        "wait for the other operation to finish; if its process is gone, "
        "`drkit unlock` removes stale locks"
    )


class WrongPassword(RepositoryError):
    code = "wrong-password"
    exit_code = 12
    default_hint = "check DRKIT_PASSWORD or --password-file; `drkit key list` shows the key slots"


class IntegrityError(RepositoryError):
    code = "integrity"
    exit_code = 13
    default_hint = "run `drkit check --read-data` to see everything that is damaged"


class SnapshotNotFound(RepositoryError):
    code = "snapshot-not-found"
    exit_code = 14
    default_hint = "`drkit snapshots` lists the snapshots; `latest` names the newest"


class UnsupportedFormat(RepositoryError):
    code = "unsupported-format"
    default_hint = "upgrade drkit to a version that knows this repository format"


class StorageError(DrkitError):
    code = "storage"
    exit_code = 15
    default_hint = "check that the storage target is reachable and writable"


class ObjectNotFound(StorageError):
    code = "object-not-found"


class TransientStorageError(StorageError):
    """A failure that may pass: connection reset, timeout, 5xx. Worth retrying."""

    code = "storage-transient"
    default_hint = "the storage target did not answer reliably; try again later"


class StorageReadOnly(StorageError):
    """The storage refuses writes (read-only mount, WORM bucket, read-only credentials)."""

    code = "storage-read-only"
    default_hint = (
        "the repository is read-only here: restore, check, snapshots and ls still work "
        "(they go on without a lock, or pass --no-lock)"
    )


class StorageFull(StorageError):
    code = "storage-full"
    exit_code = 16
    default_hint = (
        "free space on the storage target, then run the command again; "
        "nothing already stored was changed, and `drkit prune` removes leftovers"
    )


class Interrupted(DrkitError):
    code = "interrupted"
    exit_code = 130
    default_hint = "run the command again; a later backup reuses what was already stored"


ALL_ERRORS: tuple[type[DrkitError], ...] = (
    DrkitError,
    UsageError,
    ConfigError,
    IncompleteError,
    RepositoryError,
    RepositoryNotFound,
    RepositoryExists,
    RepositoryLocked,
    WrongPassword,
    IntegrityError,
    SnapshotNotFound,
    UnsupportedFormat,
    StorageError,
    ObjectNotFound,
    TransientStorageError,
    StorageReadOnly,
    StorageFull,
    Interrupted,
)
