"""Who calls, and whether they may: bearer tokens, one permission per route.

Each route depends on one :class:`Require` naming its permission (or
``None``: any authenticated caller). Anonymous or invalid callers get 401,
authenticated callers without the permission 403, before anything of the
route runs, so neither says whether the thing asked for exists. A refused
change (any method but GET) is audited as denied.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.routing import APIRoute

from drkit.catalog.types import utcnow
from drkit.services.audit import Actor, audit
from drkit.services.workspace import Workspace
from drkit.users.audit import Outcome
from drkit.users.errors import NotAuthenticated, NotPermitted
from drkit.users.model import Permission
from drkit.users.tokens import authenticate_token


@dataclass(frozen=True)
class Principal:
    """An authenticated caller and what they may do in this request."""

    user: str
    via: str  # token:ID or session
    origin: str
    permissions: frozenset[Permission]

    @property
    def actor(self) -> Actor:
        return Actor(self.user, self.via, self.origin)


def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


def origin(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Require:
    """A route's permission, as a FastAPI dependency yielding the :class:`Principal`."""

    def __init__(self, permission: Permission | None) -> None:
        self.permission = permission

    @property
    def name(self) -> str:
        return self.permission.value if self.permission else "authenticated"

    def __call__(self, request: Request) -> Principal:
        who = self._authenticate(request)
        if self.permission is not None and self.permission not in who.permissions:
            self._audit_denied(request, who.actor, f"needs {self.permission.value}")
            raise NotPermitted(f"this needs the permission {self.permission.value!r}")
        return who

    def _authenticate(self, request: Request) -> Principal:
        session_user = getattr(request.state, "session_principal", None)
        if isinstance(session_user, Principal):
            return session_user  # the dashboard signed this request in (drkit.web)
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            self._audit_denied(request, Actor("anonymous", "none", origin(request)), "no token")
            raise NotAuthenticated("authentication required")
        ws = workspace(request)
        with ws.catalog().session() as s:
            holder = authenticate_token(s, presented, utcnow())
        if holder is None:
            actor = Actor("anonymous", "token", origin(request))
            self._audit_denied(request, actor, "invalid, expired or revoked token")
            raise NotAuthenticated("the token is invalid, expired or revoked")
        return Principal(
            holder.user, f"token:{holder.token_id}", origin(request), holder.permissions
        )

    def _audit_denied(self, request: Request, actor: Actor, why: str) -> None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        action = f"{request.method} {request.url.path}"
        audit(workspace(request), actor, "api.denied", action, Outcome.DENIED, why)


VIEW = Require(Permission.VIEW)
ALERTS = Require(Permission.ALERTS)
RUNBOOKS = Require(Permission.RUNBOOKS)
APPROVE = Require(Permission.APPROVE)
BACKUP = Require(Permission.BACKUP)
RESTORE = Require(Permission.RESTORE)
CONFIGURE = Require(Permission.CONFIGURE)
MANAGE_USERS = Require(Permission.MANAGE_USERS)
AUTHENTICATED = Require(None)


def requirement(route: APIRoute) -> Require | None:
    """The :class:`Require` a route depends on, if any (for the docs and the tests)."""
    found = [d.call for d in route.dependant.dependencies if isinstance(d.call, Require)]
    return found[0] if found else None
