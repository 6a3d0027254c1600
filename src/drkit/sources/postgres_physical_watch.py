"""A watchdog for the end of a base backup: the server waiting for WAL that never arrives.

With ``-X none`` the server ends a base backup only once every WAL segment
it needs is archived. If ``archive_command`` keeps failing, it waits for
ever and pg_basebackup with it. The watchdog polls
``pg_stat_progress_basebackup`` for this backup's WAL sender (found by its
unique ``application_name``); when it has been in the phase ``waiting for
wal archiving`` longer than the timeout, it ends that backend, so
pg_basebackup fails, no snapshot is saved, and drkit says why.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from drkit.sources.postgres_conn import PgAddress

log = logging.getLogger("drkit.sources")

WAITING_PHASE = "waiting for wal archiving to finish"
_PHASE = """
select p.pid, p.phase from pg_stat_progress_basebackup p
join pg_stat_activity a on a.pid = p.pid where a.application_name = %s
"""


class ArchiveWatchdog(threading.Thread):
    """Ends the backup named ``application_name`` if it waits on archiving too long."""

    def __init__(
        self, address: PgAddress, application_name: str, timeout: float, poll: float = 0.5
    ) -> None:
        super().__init__(daemon=True, name="drkit-archive-watchdog")
        self.address = address
        self.application_name = application_name
        self.timeout = timeout
        self.poll = poll
        self.fired = False
        self._done = threading.Event()

    def run(self) -> None:
        try:
            with self.address.connect(autocommit=True) as conn:
                self._watch(conn)
        except Exception as exc:  # the watchdog must never break a backup
            log.debug("archive watchdog stopped: %s", exc)

    def _watch(self, conn: Any) -> None:
        waiting_since: float | None = None
        while not self._done.wait(self.poll):
            row = conn.execute(_PHASE, (self.application_name,)).fetchone()
            if row is None or row[1] != WAITING_PHASE:
                waiting_since = None
                continue
            waiting_since = waiting_since or time.monotonic()
            if time.monotonic() - waiting_since > self.timeout:
                self.fired = True
                conn.execute("select pg_terminate_backend(%s)", (row[0],))
                return

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=10)
