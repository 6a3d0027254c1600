"""Repository locks: shared for backup and restore, exclusive for prune.

A lock is a sealed ``locks/ID`` object naming host, pid, user, time and kind.
To take one, a process writes its lock, then lists the others: if any live
lock conflicts (exclusive meets anything) it removes its own and waits or
gives up. Two processes racing both see each other, so at worst both back
off; never do both proceed.

A held lock is refreshed every five minutes (a new object, then the old one
removed). A lock is stale when it was not refreshed for 30 minutes, or when
it names this host and its process no longer exists, or the pid now belongs
to a process that started at another time (a reused pid). Stale locks never
block and are removed when met; ``drkit unlock`` removes only stale locks,
``drkit unlock --force`` every lock (for a crashed process on another host).

Reading operations (restore, check) take no lock with ``--no-lock``, and go
on without one, saying so, where the storage refuses to write one (a
read-only mount, a WORM bucket, read-only credentials).
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

from drkit.errors import ObjectNotFound, RepositoryLocked, StorageReadOnly
from drkit.processes import process_alive, process_start_ticks
from drkit.repository.crypto import DecryptError
from drkit.repository.faults import crash_point
from drkit.repository.repo import Repository
from drkit.storage.base import FileKind

log = logging.getLogger("drkit.locks")

LOCK_AAD = b"drkit-lock"
REFRESH_EVERY = timedelta(minutes=5)
STALE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class LockInfo:
    id: str
    exclusive: bool
    hostname: str
    pid: int
    username: str
    time: datetime
    operation: str
    started: int | None = None  # the process's start time (clock ticks since boot)

    def describe(self) -> str:
        kind = "exclusive" if self.exclusive else "shared"
        return (
            f"{kind} lock for {self.operation} by {self.username}@{self.hostname} "
            f"pid {self.pid}, refreshed {self.time:%Y-%m-%d %H:%M:%S %Z}"
        )

    def is_stale(self, now: datetime, hostname: str) -> bool:
        if now - self.time > STALE_AFTER:
            return True
        if self.hostname != hostname:
            return False
        if not process_alive(self.pid):
            return True
        # the pid is alive, but is it still the process that wrote the lock?
        return self.started is not None and process_start_ticks(self.pid) != self.started


def read_locks(repo: Repository) -> list[LockInfo]:
    """Every readable lock; unreadable ones (wrong key, half-removed) are skipped."""
    found = []
    for info in repo.backend.list(FileKind.LOCK):
        try:
            raw = repo.sealer.open(repo.backend.load(FileKind.LOCK, info.name), LOCK_AAD)
            doc = json.loads(raw)
        except (ObjectNotFound, DecryptError, ValueError):
            continue
        found.append(
            LockInfo(
                info.name,
                doc["exclusive"],
                doc["hostname"],
                doc["pid"],
                doc["username"],
                datetime.fromisoformat(doc["time"]),
                doc.get("operation", ""),
                doc.get("started"),
            )
        )
    return found


def remove_stale_locks(repo: Repository) -> list[LockInfo]:
    now, host = datetime.now(UTC), socket.gethostname()
    stale = [lock for lock in read_locks(repo) if lock.is_stale(now, host)]
    for lock in stale:
        repo.backend.remove(FileKind.LOCK, lock.id)
    return stale


def remove_all_locks(repo: Repository) -> list[LockInfo]:
    """Remove every lock, live ones too (`unlock --force`: the user vouches none is running)."""
    found = read_locks(repo)
    for lock in found:
        repo.backend.remove(FileKind.LOCK, lock.id)
    return found


class RepoLock:
    """Context manager holding a lock on a repository for one operation."""

    def __init__(
        self,
        repo: Repository,
        *,
        exclusive: bool,
        operation: str,
        wait: float = 0.0,
        load_index: bool = False,
        read_only_ok: bool = False,
        no_lock: bool = False,
    ) -> None:
        self.repo, self.exclusive, self.operation, self.wait = repo, exclusive, operation, wait
        self.load_index = load_index
        # a reading operation (restore, check) goes on without a lock where the
        # storage refuses writes, or when the user asked for --no-lock
        self.read_only_ok, self.no_lock = read_only_ok, no_lock
        self.lock_id: str | None = None
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None

    def __enter__(self) -> RepoLock:
        self.acquire()
        # What the operation knows of the repository is read under the lock: an
        # index read before it (while a prune held its lock) may name deleted blobs.
        if self.load_index or self.repo.index_loaded:
            try:
                self.repo.load_index(strict=self.repo.index_strict)
            except BaseException:
                self.release()
                raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.release()
            return
        try:  # the operation failed: its error matters more than a lock left behind
            self.release()
        except Exception as release_error:
            log.warning(
                "could not remove the lock after a failure (%s); it names this "
                "process, so it counts as stale once the process ends",
                release_error,
            )

    def acquire(self) -> None:
        crash_point("lock-acquire")
        if self.no_lock:
            return
        try:
            self._acquire()
        except StorageReadOnly as exc:
            if not self.read_only_ok:
                raise
            log.warning(
                "the repository is read-only here (%s): %s goes on without a lock, so a "
                "prune elsewhere could change it meanwhile",
                exc.message,
                self.operation,
            )
        except BaseException:  # interrupted while taking it: leave no lock behind
            self._drop_own()
            raise

    def _drop_own(self) -> None:
        self._stop.set()
        if self.lock_id is not None:
            try:
                self.repo.backend.remove(FileKind.LOCK, self.lock_id)
            except Exception as exc:
                log.warning("could not remove this process's lock: %s", exc)
            self.lock_id = None

    def _acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        delay = 0.2
        while True:
            self.lock_id = self._write()
            conflict = self._conflict()
            if conflict is None:
                break
            self.repo.backend.remove(FileKind.LOCK, self.lock_id)
            self.lock_id = None
            if time.monotonic() + delay > deadline:
                raise RepositoryLocked(f"the repository is locked: {conflict.describe()}")
            crash_point("lock-wait")
            time.sleep(delay + secrets.randbelow(100) / 1000)
            delay = min(delay * 2, 5.0)
        crash_point("lock-acquired")
        self._refresher = threading.Thread(
            target=self._refresh_loop, daemon=True, name="drkit-lock-refresh"
        )
        self._refresher.start()

    def release(self) -> None:
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join()
        if self.lock_id is not None:
            self.repo.backend.remove(FileKind.LOCK, self.lock_id)
            self.lock_id = None

    def _write(self) -> str:
        doc = {
            "exclusive": self.exclusive,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "username": getpass.getuser(),
            "time": datetime.now(UTC).isoformat(),
            "operation": self.operation,
            "started": process_start_ticks(os.getpid()),
        }
        name = secrets.token_hex(32)
        sealed = self.repo.sealer.seal(json.dumps(doc).encode(), LOCK_AAD)
        self.repo.backend.save(FileKind.LOCK, name, [sealed])
        return name

    def _conflict(self) -> LockInfo | None:
        now, host = datetime.now(UTC), socket.gethostname()
        for other in read_locks(self.repo):
            if other.id == self.lock_id:
                continue
            if other.is_stale(now, host):
                self._remove_stale(other)
                continue
            if self.exclusive or other.exclusive:
                return other
        return None

    def _remove_stale(self, lock: LockInfo) -> None:
        """Stale locks are removed as they are met, so they do not pile up."""
        try:
            self.repo.backend.remove(FileKind.LOCK, lock.id)
            log.info("removed stale %s", lock.describe())
        except Exception as exc:  # another process may have removed it first
            log.debug("could not remove stale lock %s: %s", lock.id[:12], exc)

    def _refresh_loop(self) -> None:
        while not self._stop.wait(REFRESH_EVERY.total_seconds()):
            old = self.lock_id
            try:
                self.lock_id = self._write()
                if old:
                    self.repo.backend.remove(FileKind.LOCK, old)
            except Exception:
                self.lock_id = old
