"""Restoring configuration as at a time, preview first (`drkit config restore --json`).

``GET /api/config/restore/preview`` answers the plan with each file's diff
(secrets redacted) and a ``digest`` of it. ``POST /api/config/restore``
applies the restore only with the digest of the preview the caller saw: when
the history or the files changed since, the plan is no longer the one shown
and the answer is 409 with the new preview to look at.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from drkit.api.auth import CONFIGURE, VIEW, Principal, workspace
from drkit.api.launching import ACCEPTED, start
from drkit.errors import DrkitError
from drkit.services.config_restore import (
    ConfigRestorePreview,
    ConfigRestoreResult,
    ConfigRestoreSpec,
    restore_config,
)
from drkit.services.launch import JournalProgress, as_json
from drkit.services.workspace import Workspace

router = APIRouter(tags=["configuration history"])
Ws = Annotated[Workspace, Depends(workspace)]
At = Annotated[str, Query(min_length=1, max_length=200, description="time or phrase")]


class PreviewOutdated(DrkitError):
    code = "preview-outdated"
    exit_code = 2
    default_hint = "look at the new preview (GET /api/config/restore/preview) and apply that one"


class RestoreRequest(BaseModel):
    at: str = Field(min_length=1, max_length=200, description="time or phrase, as previewed")
    paths: list[str] = Field(default_factory=list, max_length=50)
    digest: str = Field(min_length=1, max_length=100, description="the preview's digest")
    restore_mode: bool = False


class _Apply:
    """The API's part in a restore: no question, the preview was the question."""

    def show(self, preview: ConfigRestorePreview) -> None:
        pass

    def confirm(self, plan: object) -> bool:
        return True


def _spec(at: str, paths: list[str], *, dry_run: bool, restore_mode: bool = False,
          author: str | None = None) -> ConfigRestoreSpec:  # fmt: skip
    from drkit.confighistory.timeparse import parse_time

    return ConfigRestoreSpec(
        at=parse_time(at), paths=paths, dry_run=dry_run, restore_mode=restore_mode, author=author
    )


def preview_doc(ws: Workspace, at: str, paths: list[str]) -> dict[str, Any]:
    """The plan (dry run) and its digest."""
    one = ws.child()
    try:
        result = restore_config(one, _spec(at, paths, dry_run=True), _Apply())
    finally:
        one.close()
    doc = as_json(result.to_json())
    return {"preview": doc, "digest": _digest(doc)}


def _digest(doc: dict[str, Any]) -> str:
    items = doc.get("items", [])
    return hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()[:32]


@router.get(
    response_model=None,
    path="/config/restore/preview",
    summary="what a restore as at a time would change, with each file's diff",
)
def preview(
    ws: Ws,
    who: Annotated[Principal, Depends(VIEW)],
    at: At,
    path: Annotated[list[str] | None, Query(max_length=50)] = None,
) -> dict[str, Any]:
    return preview_doc(ws, at, path or [])


@router.post(
    response_model=None,
    path="/config/restore",
    status_code=202,
    responses=ACCEPTED,
    summary="apply a previewed restore (drkit config restore --yes)",
)
def apply(
    body: RestoreRequest, request: Request, ws: Ws, who: Annotated[Principal, Depends(CONFIGURE)]
) -> JSONResponse:
    seen = preview_doc(ws, body.at, list(body.paths))
    if seen["digest"] != body.digest:
        raise PreviewOutdated(
            "the restore would no longer do what the preview showed (something changed since)"
        )
    spec = _spec(
        body.at, list(body.paths), dry_run=False, restore_mode=body.restore_mode, author=who.user
    )

    def run(one: Workspace, progress: JournalProgress) -> ConfigRestoreResult:
        return restore_config(one, spec, _Apply(), progress, journal=progress.journal)

    subject = ",".join(body.paths) or "drkit"
    return start(
        request, who, action="config.restore", kind="config-restore", subject=subject, operation=run
    )
