"""An end-to-end check of WAL archiving: does a segment closed now reach the repository?

``drkit pg check`` (as pgBackRest's ``check``) writes a restore point, forces a
WAL switch on the server, and waits until that segment is stored in the
repository's WAL archive. It proves the whole path (archive_command, drkit's
access to the repository, the passphrase) with a segment the server just made,
and reports how long the archiver took. On a timeout it says what
``pg_stat_archiver`` knows (the last failure and when).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from drkit.errors import DrkitError, ObjectNotFound
from drkit.sources.errors import SourceUnavailable
from drkit.sources.postgres_conn import PgAddress
from drkit.sources.wal_archive import WalArchive, object_name
from drkit.storage.base import FileKind

POLL_S = 0.2


class WalArchiveStalled(DrkitError):
    code = "wal-archive-stalled"
    exit_code = 28
    default_hint = (
        "check the server log for archive_command errors, that archive_command runs "
        "`drkit wal-push %p` against this repository, and its passphrase file"
    )


@dataclass(frozen=True)
class ArchiveCheck:
    system_id: int
    segment: str
    seconds: float  # from the switch until the segment was in the repository
    failed_count: int
    last_failed_wal: str | None
    last_failed_time: datetime | None


_SWITCH = """
select (select system_identifier from pg_control_system()),
       pg_walfile_name(pg_switch_wal())
"""
_ARCHIVER = "select failed_count, last_failed_wal, last_failed_time from pg_stat_archiver"


def check_archiving(
    address: PgAddress,
    archive: WalArchive,
    *,
    timeout: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ArchiveCheck:
    """Switch WAL on the server and wait for that segment in ``archive``.

    The connection failing meanwhile (the server restarted, the session was
    ended) is a SourceUnavailable by drkit's psycopg table, not psycopg's error.
    """
    import psycopg

    from drkit.errors_map.psycopg import PSYCOPG

    with address.connect(autocommit=True) as conn:
        try:
            conn.execute("select pg_create_restore_point('drkit pg check')")
            row = conn.execute(_SWITCH).fetchone()
        except psycopg.Error as exc:
            raise SourceUnavailable(
                f"cannot switch WAL on {address.label()}: {str(exc).strip()}",
                hint="pg check needs a superuser, or EXECUTE on pg_switch_wal and "
                "pg_create_restore_point",
            ) from None
        assert row is not None
        sysid, segment = int(row[0]), str(row[1])
        started = clock()
        with PSYCOPG.boundary(SourceUnavailable, what=f"PostgreSQL at {address.label()}"):
            while not _stored(archive, sysid, segment):
                if clock() - started > timeout:
                    failed = conn.execute(_ARCHIVER).fetchone()
                    raise WalArchiveStalled(_stalled(segment, timeout, failed))
                sleep(POLL_S)
            seconds = clock() - started
            failed = conn.execute(_ARCHIVER).fetchone()
    assert failed is not None
    return ArchiveCheck(sysid, segment, seconds, int(failed[0]), failed[1], failed[2])


def _stored(archive: WalArchive, sysid: int, segment: str) -> bool:
    try:
        archive.backend.stat(FileKind.WAL, object_name(sysid, segment))
    except ObjectNotFound:
        return False
    return True


def _stalled(segment: str, timeout: float, failed: tuple[object, ...] | None) -> str:
    text = f"WAL segment {segment}, closed by pg_switch_wal(), did not reach the repository "
    text += f"within {timeout:g} s"
    if failed and failed[1]:
        text += f"; the archiver last failed on {failed[1]} at {failed[2]} ({failed[0]} failures)"
    return text
