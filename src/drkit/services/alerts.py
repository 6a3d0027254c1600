"""The open alerts of the catalog: ``drkit alerts`` (and the end of ``serve --once``).

:func:`open_alert_list` reads them oldest first; its ``to_json()`` is the
list ``drkit alerts --json`` prints and ``GET /api/v1/alerts`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drkit.catalog.tables import AlertRow
    from drkit.services.workspace import Workspace


@dataclass(frozen=True)
class AlertList:
    """The open alerts, oldest first, as of ``now``."""

    alerts: list[AlertRow]
    now: datetime

    def to_json(self) -> list[dict[str, Any]]:
        from drkit.monitor.alerts import alert_json

        return [alert_json(a, self.now) for a in self.alerts]


def open_alert_list(workspace: Workspace) -> AlertList:
    """Every open alert of the workspace's catalog."""
    from drkit.monitor.alerts import open_alerts

    return AlertList(open_alerts(workspace.catalog()), datetime.now(UTC))
