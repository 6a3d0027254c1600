"""Runs and their journals, read from the catalog: ``drkit runs`` and ``drkit runs show``.

The results are the catalog's :class:`RunView` (and a list of them): their
``to_json()`` is ``--json`` and the API's answer. SQLAlchemy loads only when
one of these runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drkit.catalog.runs import RunStatus, RunView
    from drkit.services.workspace import Workspace


@dataclass(frozen=True)
class RunList:
    """Runs, newest first."""

    runs: tuple[RunView, ...]

    def to_json(self) -> list[dict[str, Any]]:
        return [view.to_json() for view in self.runs]


def list_runs(
    workspace: Workspace,
    *,
    kind: str | None = None,
    subject: str | None = None,
    status: RunStatus | None = None,
    limit: int = 50,
) -> RunList:
    """The newest ``limit`` runs, of one kind, subject or status when given."""
    from drkit.catalog.runs import list_runs as listed

    views = listed(workspace.catalog(), kind=kind, subject=subject, status=status, limit=limit)
    return RunList(tuple(views))


def get_run(workspace: Workspace, run_id: int) -> RunView:
    """One run with its steps; :class:`drkit.errors.RunNotFound` when there is none."""
    from drkit.catalog.runs import get_run as got

    return got(workspace.catalog(), run_id)
