"""Configuration history: versions, the side-by-side diff of two, and a restore after its preview.

A restore is two requests. ``GET /config/restore?version=ID`` plans it as a
dry run and shows what would change, with a form carrying the plan's
fingerprint; ``POST /config/restore`` plans again and applies only when the
plan is still the one shown (else it shows the new plan), so nobody applies
a change they have not seen. It needs the ``configure`` permission, the
session's CSRF token, and is audited.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import Response

from drkit.api.auth import Principal
from drkit.confighistory.errors import RestoreDeclined
from drkit.errors import DrkitError
from drkit.services.audit import audit
from drkit.services.workspace import Workspace
from drkit.users.audit import Outcome
from drkit.users.model import Permission
from drkit.web.pages import PageRequire
from drkit.web.render import Viewer, Ws, check_csrf, error_status, page

if TYPE_CHECKING:  # the domain (SQLAlchemy, paramiko) is imported when a page runs
    from drkit.confighistory.model import ConfigVersion
    from drkit.confighistory.restore import RestorePlan
    from drkit.confighistory.service import History
    from drkit.services.config_restore import ConfigRestorePreview

ACTION = "config.restore"
CONFIGURE = PageRequire(Permission.CONFIGURE)
Configurer = Annotated[Principal, Depends(CONFIGURE)]


def install(app: FastAPI) -> None:
    app.get("/config", include_in_schema=False)(config)
    app.get("/config/restore", include_in_schema=False)(restore_preview)
    app.post("/config/restore", include_in_schema=False)(restore)


def config(
    request: Request, ws: Ws, who: Viewer, old: str | None = None, new: str | None = None
) -> Response:
    from drkit.confighistory import compare
    from drkit.confighistory import html as diff_html

    history = _history(ws)
    versions = history.store.history(None, limit=50)
    fragment, problem = None, None
    if old and new:
        try:
            a = history.resolve(old[:200], None)
            b = history.resolve(new[:200], a.scope)
            fragment = diff_html.side_by_side_fragment(
                compare.text_diff(history.side(a), history.side(b))
            )
        except DrkitError as exc:
            problem = exc
    return page(
        request,
        "config.html",
        who,
        versions=versions,
        old=old or "",
        new=new or "",
        fragment=fragment,
        problem=problem,
        may_restore=Permission.CONFIGURE in who.permissions,
    )


def restore_preview(request: Request, ws: Ws, who: Configurer, version: int = 0) -> Response:
    try:
        target = _history(ws).store.get(version)
        plan = _plan(ws, target)
    except DrkitError as exc:
        return _restore_page(request, who, None, None, problem=exc, status=error_status(exc))
    return _restore_page(request, who, target, plan)


def restore(
    request: Request,
    ws: Ws,
    who: Configurer,
    version: Annotated[int, Form()] = 0,
    plan: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    from drkit.services.config_restore import ConfigRestoreSpec, restore_config

    check_csrf(request, csrf)
    try:
        target = _history(ws).store.get(version)
    except DrkitError as exc:
        return _restore_page(request, who, None, None, problem=exc, status=error_status(exc))
    review = _SamePlan(plan)
    spec = ConfigRestoreSpec(at=target.created_at, paths=[_selector(target)], author=who.user)
    try:
        result = restore_config(ws, spec, review)
    except DrkitError as exc:
        audit(ws, who.actor, ACTION, target.label, Outcome.FAILED, f"{exc.code}: {exc.message}")
        if isinstance(exc, RestoreDeclined):
            return _restore_page(request, who, target, review.seen, problem=exc, status=409)
        return _restore_page(request, who, target, None, problem=exc, status=error_status(exc))
    done = ", ".join(f"{r.scope.display} to #{r.target}" for r in result.restored)
    audit(ws, who.actor, ACTION, target.label, Outcome.OK, done or "nothing to restore")
    return _restore_page(request, who, target, result.plan, restored=result.restored)


class _SamePlan:
    """The web's part in a restore: apply only the plan whose fingerprint the form carries."""

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.seen: RestorePlan | None = None

    def show(self, preview: ConfigRestorePreview) -> None:
        self.seen = preview.plan

    def confirm(self, plan: RestorePlan) -> bool:
        if fingerprint(plan) != self.fingerprint:
            raise RestoreDeclined(
                "the configuration changed since the preview",
                hint="look at the new preview below and restore again if it is what you want",
            )
        return True


def fingerprint(plan: RestorePlan) -> str:
    """Which versions the plan restores over which current contents (what the preview showed)."""
    digest = hashlib.sha256(plan.at.isoformat().encode())
    for item in plan.items:
        digest.update(f"|{item.scope}|{item.status.value}|".encode())
        digest.update(str(item.target.id if item.target else "-").encode())
        if item.diff is not None:
            digest.update(repr(item.diff).encode())
    return digest.hexdigest()[:32]


def _plan(ws: Workspace, target: ConfigVersion) -> RestorePlan:
    from drkit.services.config_restore import ConfigRestoreSpec, restore_config

    spec = ConfigRestoreSpec(at=target.created_at, paths=[_selector(target)], dry_run=True)
    review = _SamePlan("")
    return restore_config(ws, spec, review).plan


def _selector(target: ConfigVersion) -> str:
    return "drkit" if target.scope.is_drkit else str(target.scope)


def _restore_page(
    request: Request,
    who: Principal,
    target: ConfigVersion | None,
    plan: RestorePlan | None,
    *,
    problem: DrkitError | None = None,
    restored: object = None,
    status: int = 200,
) -> Response:
    from drkit.confighistory import html as diff_html

    return page(
        request,
        "config_restore.html",
        who,
        status,
        side_by_side=diff_html.side_by_side_fragment,
        target=target,
        plan=plan,
        fingerprint=fingerprint(plan) if plan is not None else "",
        problem=problem,
        restored=restored,
    )


def _history(ws: Workspace) -> History:
    from drkit.confighistory.service import History

    return History(ws.catalog(), ws.settings, ws.settings_file, ws.home)
