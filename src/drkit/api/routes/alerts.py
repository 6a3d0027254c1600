"""Open alerts (`drkit alerts --json`) and acknowledging one (audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path

from drkit.api.auth import ALERTS, VIEW, Principal, workspace
from drkit.catalog.types import utcnow
from drkit.monitor.alerts import acknowledge, alert_json, open_alerts
from drkit.services.audit import audited
from drkit.services.workspace import Workspace

router = APIRouter(tags=["alerts"])
Ws = Annotated[Workspace, Depends(workspace)]


@router.get(response_model=None, path="/alerts", summary="the open alerts")
def alerts(ws: Ws, who: Annotated[Principal, Depends(VIEW)]) -> list[dict[str, Any]]:
    return [alert_json(a) for a in open_alerts(ws.catalog())]


@router.post(
    response_model=None,
    path="/alerts/{alert_id}/acknowledge",
    summary="take an alert on: repeats stop",
)
def acknowledge_alert(
    alert_id: Annotated[int, Path(ge=1, le=2**62)],
    ws: Ws,
    who: Annotated[Principal, Depends(ALERTS)],
    comment: Annotated[str, Body(embed=True, max_length=2000)] = "",
) -> dict[str, Any]:
    with audited(ws, who.actor, "alert.acknowledge", str(alert_id)):
        row = acknowledge(ws.catalog(), alert_id, who.user, comment, utcnow())
    return alert_json(row)
