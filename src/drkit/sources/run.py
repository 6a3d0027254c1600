"""Backing a source up and restoring it under the repository locks, for every face.

The CLI (``drkit db``, ``drkit backup --policy``) and the scheduler call
these rather than the drivers, so locking and driver choice live in one place.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from drkit.repository.locks import RepoLock
from drkit.repository.snapshot import Snapshot
from drkit.sources.base import META_TYPE, BackupRequest, RestoreRequest, RestoreResult, Source
from drkit.sources.registry import driver_for_snapshot


def backup_source(
    source: Source[Any], request: BackupRequest, wait_lock: float = 0.0
) -> list[Snapshot]:
    """Back ``source`` up into every repository of the request (shared locks held)."""
    with ExitStack() as locks:
        for repo in request.repos:
            locks.enter_context(RepoLock(repo, exclusive=False, operation="backup", wait=wait_lock))
        return source.backup(request)


def restore_snapshot(request: RestoreRequest, wait_lock: float = 0.0) -> RestoreResult:
    """Restore with the driver that made the snapshot (a shared lock held)."""
    driver = driver_for_snapshot(request.snapshot)
    with RepoLock(request.repo, exclusive=False, operation="restore", wait=wait_lock):
        return driver.restore(request)


def is_source_snapshot(snapshot: Snapshot) -> bool:
    """Whether a database (or other non-file) source made the snapshot."""
    return snapshot.meta.get(META_TYPE, "files") != "files"
