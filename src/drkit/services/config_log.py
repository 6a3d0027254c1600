"""The versions of the configuration history, newest first (`drkit config log`, the API).

A current SQLite catalog is read with sqlite3 (:mod:`drkit.confighistory.quick_log`,
no SQLAlchemy); any other catalog through the history's store, which migrates
an older schema and refuses a newer one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drkit.confighistory.quick_log import quick_log

if TYPE_CHECKING:
    from drkit.confighistory.model import ConfigVersion
    from drkit.services.workspace import Workspace


def config_log(
    workspace: Workspace, selectors: list[str] | None, limit: int
) -> list[ConfigVersion]:
    """The versions of the scopes ``selectors`` name (None or empty: of every scope)."""
    path = workspace.settings_file
    if path is None or path.exists():  # a missing drkit.yaml: open_history runs on defaults
        found = quick_log(workspace.catalog_url(), selectors or None, limit)
        if found is not None:
            return found
    from drkit.services.config_restore import open_history

    with open_history(workspace) as history:
        scopes = history.select(selectors) if selectors else None
        return history.store.history(scopes, limit=limit)
