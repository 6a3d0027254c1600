"""Who is signed in to the dashboard, and what a page needs (a session, a permission)."""

from __future__ import annotations

from fastapi import Request

from drkit.api.auth import Principal, Require, origin, workspace
from drkit.catalog.types import utcnow
from drkit.users import store
from drkit.users.errors import NotPermitted, UserNotFound
from drkit.users.model import Permission
from drkit.users.sessions import WebSession, find_session

COOKIE = "drkit_session"


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to /login."""


class PageForbidden(NotPermitted):
    """Signed in, without the page's permission: answered with a 403 page (not a problem)."""


class PageRequire(Require):
    """A page's permission, from the session cookie only (never a bearer token)."""

    def __call__(self, request: Request) -> Principal:
        found = signed_in(request)
        if found is None:
            raise LoginRequired
        who, _ = found
        if self.permission is not None and self.permission not in who.permissions:
            self._audit_denied(request, who.actor, f"needs {self.permission.value}")
            raise PageForbidden(f"this page needs the permission {self.permission.value!r}")
        return who


def signed_in(request: Request) -> tuple[Principal, WebSession] | None:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    with workspace(request).catalog().session() as s:
        found = find_session(s, cookie, utcnow())
        if found is None:
            return None
        try:
            may = store.get_user(s, found.user).effective
        except UserNotFound:
            return None
    return Principal(found.user, "session", origin(request), may), found


PAGE_VIEW = PageRequire(Permission.VIEW)
PAGE_SIGNED_IN = PageRequire(None)
