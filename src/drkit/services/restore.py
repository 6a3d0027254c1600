"""Restoring a snapshot into a directory as an operation: ``drkit restore`` for every face.

:func:`restore` refuses a non-empty target (unless ``overwrite``), opens the
workspace's repository, takes the shared lock (none with ``no_lock``, for a
read-only repository), picks the snapshot (an id prefix, or ``latest``
narrowed by policy, tags, paths and host) and restores it, reporting bytes
to the :class:`Progress` and damaged snapshots as warnings. The
:class:`RestoreResult`'s ``to_json()`` is ``drkit restore --json``;
:meth:`RestoreResult.failure` is the error (exit 3, incomplete) when paths
could not be restored, with a hint from why they failed.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from typing import Any

from drkit.errors import IncompleteError
from drkit.policy.membership import policy_tag
from drkit.repository.locks import RepoLock
from drkit.repository.restorer import Restorer, check_target
from drkit.repository.restorer import RestoreResult as Restored
from drkit.repository.snapshot import Snapshot, find_snapshot
from drkit.services.progress import SILENT, Counter, Progress
from drkit.services.workspace import Workspace


@dataclass(frozen=True)
class RestoreRequest:
    """Which snapshot (``latest`` narrowed by policy, tags, paths, host), where, what of it."""

    snapshot: str  # an id prefix or `latest`
    target: str
    include: tuple[str, ...] = ()  # only these paths of the snapshot; () everything
    overwrite: bool = False
    no_lock: bool = False
    policy: str | None = None
    tags: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    host: str | None = None


@dataclass(frozen=True)
class RestoreResult:
    """The snapshot restored and what the restore wrote, skipped and warned of."""

    snapshot: Snapshot
    restored: Restored = field(default_factory=Restored)

    def to_json(self) -> dict[str, Any]:
        r = self.restored
        return {
            "snapshot": self.snapshot.id,
            "files": r.files,
            "dirs": r.dirs,
            "bytes": r.bytes,
            "failed": r.failed,
            "warnings": r.warnings,
        }

    def failure(self) -> IncompleteError | None:
        """Paths that could not be restored (exit 3), with what to do about them."""
        failed = self.restored.failed
        if not failed:
            return None
        return IncompleteError(
            f"{len(failed)} path(s) could not be restored",
            hint=failure_hint(list(failed.values())),
        )


def restore(
    workspace: Workspace, request: RestoreRequest, progress: Progress = SILENT
) -> RestoreResult:
    """Restore the chosen snapshot (or the paths included of it) under a shared lock."""
    check_target(request.target, request.overwrite)
    repo = workspace.open_repo(load_index=False)
    with RepoLock(
        repo,
        exclusive=False,
        operation="restore",
        load_index=True,
        read_only_ok=True,
        no_lock=request.no_lock,
    ):
        tags = [*request.tags, *([policy_tag(request.policy)] if request.policy else [])]
        available = repo.snapshots(
            on_damaged=lambda name, exc: progress.warn(f"snapshot {name[:8]}: {exc}")
        )
        snap = find_snapshot(
            available,
            request.snapshot,
            host=request.host,
            paths=list(request.paths) or None,
            tags=tags,
        )
        include = list(request.include) or None
        done = Restorer(repo, snap, request.target, include, Counter(progress)).run()
    return RestoreResult(snap, done)


def failure_hint(reasons: list[str]) -> str:
    """What to do about the paths a restore could not write, from why they failed."""
    if any(os.strerror(errno.ENOSPC) in why for why in reasons):
        return (
            "the restore target is full: free space there (or restore elsewhere), then "
            "restore again with --overwrite; the repository is not damaged by this"
        )
    if all(why.startswith("not in the snapshot") for why in reasons):
        return (
            "these files could not be read when the backup ran, so the snapshot has no "
            "content for them; nothing in the repository is damaged"
        )
    return (
        "`drkit check --read-data` shows the damage; another copy of the repository may "
        "still have the data"
    )
