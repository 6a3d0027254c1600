"""Creating a repository and removing locks: ``drkit init`` and ``drkit unlock`` for every face.

:func:`init_repository` creates an empty repository where the workspace's
repository points (the passphrase asked twice on a terminal). :func:`unlock`
removes the locks crashed processes left (stale ones), or every lock with
``force``; each returns a typed result with ``to_json()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drkit.repository.locks import LockInfo
    from drkit.services.workspace import Workspace


@dataclass(frozen=True)
class Created:
    """The repository ``drkit init`` made: its id and where it is."""

    id: str
    location: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "location": self.location}


def init_repository(workspace: Workspace) -> Created:
    """A new, empty repository at the workspace's repository (refused over existing data)."""
    from drkit.repository.repo import Repository

    backend = workspace.backend()
    repo = Repository.init(backend, workspace.password(confirm=True))
    return Created(repo.config.id, backend.location)


@dataclass(frozen=True)
class Unlocked:
    """The stale locks removed, and the live ones: removed with ``force``, else kept."""

    stale: list[LockInfo]
    live: list[LockInfo]
    forced: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "removed_stale": [_lock_json(lock) for lock in self.stale],
            "removed_live" if self.forced else "kept_live": [_lock_json(x) for x in self.live],
        }


def _lock_json(lock: LockInfo) -> dict[str, Any]:
    return {
        "id": lock.id,
        "exclusive": lock.exclusive,
        "operation": lock.operation,
        "hostname": lock.hostname,
        "pid": lock.pid,
        "username": lock.username,
        "time": lock.time,
    }


def unlock(workspace: Workspace, *, force: bool = False) -> Unlocked:
    """Remove the stale locks; with ``force`` the live ones too (the user vouches none runs)."""
    from drkit.repository.locks import read_locks, remove_all_locks, remove_stale_locks

    repo = workspace.open_repo(load_index=False)
    stale = remove_stale_locks(repo)
    live = remove_all_locks(repo) if force else read_locks(repo)
    return Unlocked(stale, live, force)
