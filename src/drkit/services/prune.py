"""Pruning as an operation: ``drkit prune`` for every face.

:func:`prune_repository` takes the exclusive lock (waiting ``wait_lock``
seconds for it), loads the index only once it holds it, and deletes the data
no snapshot needs (in a dry run, only plans it). The :class:`PruneDone`'s
``to_json()`` is ``drkit prune --json``, the same shape as the prune inside
``drkit forget --prune``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drkit.repository.prune import PruneOptions, PruneResult, prune
from drkit.services.forget import exclusive_lock, prune_json

if TYPE_CHECKING:
    from drkit.services.workspace import Workspace


@dataclass(frozen=True)
class PruneDone:
    """What prune deleted and repacked (or, in a dry run, would)."""

    result: PruneResult

    def to_json(self) -> dict[str, Any]:
        return prune_json(self.result)


def prune_repository(
    workspace: Workspace,
    options: PruneOptions,
    *,
    wait_lock: float = 0.0,
) -> PruneDone:
    """Prune the workspace's repository under the exclusive lock."""
    repo = workspace.open_repo(load_index=False)
    with exclusive_lock(repo, "prune", wait_lock):
        repo.load_index()
        result = prune(repo, options)
    return PruneDone(result)
