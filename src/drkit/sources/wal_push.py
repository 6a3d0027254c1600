"""``archive_command`` and ``restore_command``: one WAL file into or out of the archive.

PostgreSQL runs ``drkit wal-push %p`` from the data directory for every
finished WAL file and ``drkit wal-fetch %f %p`` during recovery. Both must
be quick (they run once per 16 MiB segment) and must exit non-zero whenever
the file was not stored or not restored, so PostgreSQL keeps the file and
retries, or knows the file is not there.

The cluster a file belongs to is its system identifier: a segment carries it
in its first page header; for history and backup history files it is read
from ``global/pg_control`` in the data directory (PostgreSQL's working
directory when it runs the command), or given with ``--system-id``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from drkit.errors import DrkitError, UsageError
from drkit.sources.wal_archive import PushOutcome, WalArchive, validate_name
from drkit.sources.wal_errors import (
    RESTORE_COMMAND_FATAL,
    WalFetchFatal,
    WalNotArchived,
    WalSystemMismatch,
)
from drkit.sources.wal_names import WalFileKind, WalFileName, read_segment_header

CONTROL_FILE = Path("global") / "pg_control"


@dataclass(frozen=True)
class PushResult:
    name: str
    system_id: int
    outcome: PushOutcome
    size: int
    seconds: float


def control_system_id(pgdata: Path) -> int | None:
    """The system identifier in ``pgdata/global/pg_control`` (its first 8 bytes), if readable."""
    try:
        with open(pgdata / CONTROL_FILE, "rb") as fh:
            raw = fh.read(8)
    except OSError:
        return None
    return int.from_bytes(raw, "little") if len(raw) == 8 else None


def resolve_system_id(
    parsed: WalFileName, data: bytes, *, pgdata: Path, explicit: int | None
) -> int:
    """Which cluster wrote this file; refuses a segment whose header names another one."""
    expected = explicit if explicit is not None else control_system_id(pgdata)
    if parsed.kind in (WalFileKind.SEGMENT, WalFileKind.PARTIAL):
        header = read_segment_header(data[:64])
        if header is not None:
            if expected is not None and header.system_identifier != expected:
                raise WalSystemMismatch(
                    f"the WAL file was written by cluster {header.system_identifier}, "
                    f"not by cluster {expected} of {pgdata.absolute()}"
                )
            return header.system_identifier
    if expected is None:
        raise UsageError(
            f"cannot tell which cluster wrote this file: no readable {CONTROL_FILE} in "
            f"{pgdata.absolute()}",
            hint="run from the data directory (PostgreSQL does), or pass --pgdata or --system-id",
        )
    return expected


def push_file(
    archive: WalArchive, path: Path, *, pgdata: Path, system_id: int | None = None
) -> PushResult:
    """Archive the WAL file at ``path`` (``%p``); its name is the file's own name."""
    started = time.monotonic()
    parsed = validate_name(path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    sysid = resolve_system_id(parsed, data, pgdata=pgdata, explicit=system_id)
    outcome = archive.push(sysid, path.name, data)
    return PushResult(path.name, sysid, outcome, len(data), time.monotonic() - started)


def fetch_file(
    archive: WalArchive, wal_name: str, dest: Path, *, pgdata: Path, system_id: int | None = None
) -> int:
    """Restore ``wal_name`` (``%f``) to ``dest`` (``%p``) atomically; return its size."""
    sysid = system_id if system_id is not None else control_system_id(pgdata)
    if sysid is None:
        raise UsageError(
            f"cannot tell which cluster to restore WAL for: no readable {CONTROL_FILE} in "
            f"{pgdata.absolute()}",
            hint="run from the data directory (PostgreSQL does), or pass --system-id",
        )
    data = archive.fetch(sysid, wal_name)
    tmp = dest.with_name(f".{dest.name}.drkit-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {dest}: {exc.strerror}") from exc
    return len(data)


def restore_command_status(status: int | str | None) -> int:
    """wal-fetch's exit status as PostgreSQL must see it (pure).

    0 restored, 1 "not archived" (recovery ends there, as intended at the end of
    the archive); every other failure becomes fatal (> 125), so recovery stops
    instead of promoting a server with data missing.
    """
    if status is None or status == 0:
        return 0
    if status == 1:
        return 1
    return RESTORE_COMMAND_FATAL


def fetch_failure(exc: BaseException) -> DrkitError:
    """The error wal-fetch reports for ``exc``: "not archived" stays itself, the rest fatal."""
    if isinstance(exc, WalNotArchived | WalFetchFatal):
        return exc
    if isinstance(exc, DrkitError):
        return WalFetchFatal(
            f"{exc.message} ({exc.code}); wal-fetch fails so recovery stops here "
            "instead of ending early",
            hint=exc.hint or None,
        )
    return WalFetchFatal(
        f"unexpected {type(exc).__name__}: {exc}; wal-fetch fails so recovery stops here "
        "instead of ending early"
    )
