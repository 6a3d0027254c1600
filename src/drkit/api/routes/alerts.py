"""Open alerts (`drkit alerts --json`), acknowledging and silencing one (audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path
from pydantic import BaseModel, Field

from drkit.api.auth import ALERTS, VIEW, Principal, workspace
from drkit.catalog.types import utcnow
from drkit.monitor.alerts import acknowledge, alert_json, open_alerts
from drkit.monitor.silences import silence, unsilence
from drkit.services.audit import audited
from drkit.services.workspace import Workspace

router = APIRouter(tags=["alerts"])
Ws = Annotated[Workspace, Depends(workspace)]
AlertId = Annotated[int, Path(ge=1, le=2**62)]
Responder = Annotated[Principal, Depends(ALERTS)]


class Silence(BaseModel):
    duration: str = Field(
        min_length=1, max_length=20, description="how long: 30m, 4h, 1d12h (at most 90 days)"
    )
    reason: str = Field(min_length=1, max_length=2000, description="why, for the others")


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


@router.post(
    response_model=None,
    path="/alerts/{alert_id}/silence",
    summary="not notified (repeats, resolution) for a time; shown as silenced",
)
def silence_alert(alert_id: AlertId, body: Silence, ws: Ws, who: Responder) -> dict[str, Any]:
    from drkit.settings.objectives import parse_objective

    now = utcnow()
    with audited(ws, who.actor, "alert.silence", f"{alert_id} for {body.duration}: {body.reason}"):
        row = silence(
            ws.catalog(), alert_id, who.user, body.reason, parse_objective(body.duration), now
        )
    return alert_json(row, now)


@router.delete(
    response_model=None,
    path="/alerts/{alert_id}/silence",
    summary="end a silence now: the alert is notified at the next evaluation",
)
def unsilence_alert(alert_id: AlertId, ws: Ws, who: Responder) -> dict[str, Any]:
    now = utcnow()
    with audited(ws, who.actor, "alert.unsilence", str(alert_id)):
        row = unsilence(ws.catalog(), alert_id, now)
    return alert_json(row, now)
