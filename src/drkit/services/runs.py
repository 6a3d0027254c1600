"""Runs and their journals, read from the catalog: ``drkit runs`` and ``drkit runs show``.

The results are the catalog's :class:`RunView` (and a list of them): their
``to_json()`` is ``--json`` and the API's answer. A current SQLite catalog is
read with sqlite3 (:mod:`drkit.catalog.quick`): SQLAlchemy loads only for
another catalog, or one to migrate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drkit.catalog.views import RunStatus, RunView
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
    from drkit.catalog import quick

    found = quick.list_runs(
        workspace.catalog_url(), kind=kind, subject=subject, status=status, limit=limit
    )
    if found is None:  # not a current SQLite catalog: the ORM reads (and migrates) it
        from drkit.catalog.runs import list_runs as listed

        found = listed(workspace.catalog(), kind=kind, subject=subject, status=status, limit=limit)
    return RunList(tuple(found))


def get_run(workspace: Workspace, run_id: int) -> RunView:
    """One run with its steps; :class:`drkit.errors.RunNotFound` when there is none."""
    from drkit.catalog import quick

    found = quick.get_run(workspace.catalog_url(), run_id)
    if found is not None:
        return found
    from drkit.catalog.runs import get_run as got

    return got(workspace.catalog(), run_id)
