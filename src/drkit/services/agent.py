"""What ``drkit agent`` needs from the workspace before the HA agent runs.

:func:`agent_plan` checks that drkit.yaml has an ``ha:`` inventory and finds
the failover runbook it names (in the workspace's runbook folder), without
side effects; the agent itself is :mod:`drkit.ha.agent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drkit.errors import UsageError

if TYPE_CHECKING:
    from drkit.services.workspace import Workspace
    from drkit.settings.model import Settings


@dataclass(frozen=True)
class AgentPlan:
    """The settings the agent runs on, its site, and the failover runbook (None: built in)."""

    settings: Settings
    site: str
    failover_runbook: Path | None

    def to_json(self) -> dict[str, Any]:
        assert self.settings.ha is not None
        runbook = self.failover_runbook
        return {
            "cluster": self.settings.ha.cluster,
            "site": self.site,
            "failover_runbook": str(runbook) if runbook is not None else None,
        }


def agent_plan(workspace: Workspace, site: str) -> AgentPlan:
    """drkit.yaml's ``ha:`` inventory and failover runbook, for the agent of ``site``."""
    from drkit.runbooks.store import RunbookStore, runbook_dir

    settings = workspace.settings
    if settings.ha is None:
        raise UsageError("drkit.yaml has no ha: section", hint="docs/ha.md shows an inventory")
    runbook = None
    if settings.ha.failover_runbook:
        folder = runbook_dir(settings, workspace.settings_file, workspace.home)
        runbook = RunbookStore(folder).path(settings.ha.failover_runbook)
    return AgentPlan(settings, site, runbook)
