"""Restoring a snapshot, or parts of it, into a directory: ``drkit restore`` for every face.

:func:`restore` picks the snapshot (an id prefix, or ``latest`` narrowed by
policy, tags, paths and host), takes the repository's shared lock and runs
the :class:`~drkit.repository.restorer.Restorer`, reporting to a
:class:`~drkit.services.progress.Progress`. The :class:`RestoreOutcome`'s
``to_json()`` is ``drkit restore --json`` and what the API's run stores;
:meth:`RestoreOutcome.failure` is the error a face raises when paths could
not be restored. ``drkit restore``, the API and the dashboard all restore through it.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drkit.errors import IncompleteError
from drkit.services.progress import SILENT, Counter, Progress

if TYPE_CHECKING:
    from drkit.repository.repo import Repository
    from drkit.repository.restorer import RestoreResult
    from drkit.repository.snapshot import Snapshot
    from drkit.services.workspace import Workspace


@dataclass(frozen=True)
class RestoreSpec:
    """What to restore where: ``snapshot`` (or ``latest`` of the filters) into ``target``.

    ``repository`` names a repository of drkit.yaml; None is the workspace's own
    (``--repo``, ``DRKIT_REPO``).
    """

    snapshot: str
    target: str
    includes: list[str] = field(default_factory=list)
    overwrite: bool = False
    no_lock: bool = False
    policy: str | None = None
    tags: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    host: str | None = None
    repository: str | None = None


@dataclass(frozen=True)
class RestoreOutcome:
    """The snapshot restored and what the restorer wrote (and could not)."""

    snapshot: Snapshot
    result: RestoreResult

    def to_json(self) -> dict[str, Any]:
        """The shape of ``drkit restore --json``."""
        return {
            "snapshot": self.snapshot.id,
            "files": self.result.files,
            "dirs": self.result.dirs,
            "bytes": self.result.bytes,
            "failed": self.result.failed,
            "warnings": self.result.warnings,
        }

    def failure(self) -> IncompleteError | None:
        """Paths not restored fail the restore (exit 3), with a hint from why."""
        if not self.result.failed:
            return None
        return IncompleteError(
            f"{len(self.result.failed)} path(s) could not be restored",
            hint=failure_hint(list(self.result.failed.values())),
        )

    @staticmethod
    def judge(outcome: Any) -> IncompleteError | None:
        """:meth:`failure` of an outcome (the launcher's judge)."""
        found: IncompleteError | None = outcome.failure()
        return found


def check(spec: RestoreSpec) -> None:
    """Refuse a target that is not a directory, or not empty without ``overwrite`` (now)."""
    from drkit.repository.restorer import check_target

    check_target(spec.target, spec.overwrite)


def restore(workspace: Workspace, spec: RestoreSpec, progress: Progress = SILENT) -> RestoreOutcome:
    """Restore ``spec`` under the repository's shared lock (none with ``no_lock``)."""
    from drkit.policy.membership import policy_tag
    from drkit.repository.locks import RepoLock
    from drkit.repository.restorer import Restorer
    from drkit.repository.snapshot import find_snapshot

    check(spec)
    repo = _open(workspace, spec)
    with RepoLock(
        repo,
        exclusive=False,
        operation="restore",
        load_index=True,
        read_only_ok=True,
        no_lock=spec.no_lock,
    ):
        tags = [*spec.tags, *([policy_tag(spec.policy)] if spec.policy else [])]
        snaps = _snapshots(repo, progress)
        paths = spec.paths or None
        snap = find_snapshot(snaps, spec.snapshot, host=spec.host, paths=paths, tags=tags)
        includes = spec.includes or None
        result = Restorer(repo, snap, spec.target, includes, Counter(progress)).run()
    return RestoreOutcome(snap, result)


def _open(workspace: Workspace, spec: RestoreSpec) -> Repository:
    if spec.repository is not None:
        return workspace.open_named(spec.repository)
    return workspace.open_repo(load_index=False)


def _snapshots(repo: Repository, progress: Progress) -> list[Snapshot]:
    return repo.snapshots(on_damaged=lambda name, exc: progress.warn(f"snapshot {name[:8]}: {exc}"))


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
