"""Users and their tokens (manage-users), and the caller's own tokens (any authenticated caller).

Changes go through :mod:`drkit.services.users`: each is one transaction with
its configuration version and audit entry, as with `drkit user ...`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field

from drkit.api.auth import AUTHENTICATED, MANAGE_USERS, Principal, workspace
from drkit.catalog.types import utcnow
from drkit.services import users
from drkit.services.workspace import Workspace
from drkit.users import parse_grant, parse_permission
from drkit.users.model import Permission
from drkit.users.passwords import hash_password
from drkit.users.tokens import capped_permissions

router = APIRouter(tags=["users"])
Ws = Annotated[Workspace, Depends(workspace)]
Admin = Annotated[Principal, Depends(MANAGE_USERS)]
Caller = Annotated[Principal, Depends(AUTHENTICATED)]
UserName = Annotated[str, Path(min_length=1, max_length=100)]
TokenId = Annotated[str, Path(min_length=1, max_length=16)]


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)
    grants: list[str] = Field(default_factory=list, max_length=20)


class Grants(BaseModel):
    grants: list[str] = Field(min_length=1, max_length=20)


class NewToken(BaseModel):
    label: str = Field(default="", max_length=200)
    permissions: list[str] | None = Field(default=None, max_length=20)
    expires_at: datetime | None = None


@router.get(
    response_model=None, path="/me", summary="who the caller is and what this request may do"
)
def me(who: Caller) -> dict[str, Any]:
    return {"user": who.user, "via": who.via, "permissions": sorted(who.permissions)}


@router.get(response_model=None, path="/users", summary="users with their roles and permissions")
def list_users(ws: Ws, who: Admin) -> list[dict[str, Any]]:
    return [u.to_json() for u in users.list_users(ws)]


@router.get(response_model=None, path="/users/{name}", summary="one user")
def get_user(name: UserName, ws: Ws, who: Admin) -> dict[str, Any]:
    return users.get_user(ws, name).to_json()


@router.post(response_model=None, path="/users", status_code=201, summary="add a user")
def add_user(body: NewUser, ws: Ws, who: Admin) -> dict[str, Any]:
    grants = [parse_grant(g) for g in body.grants]
    added = users.add_user(ws, who.actor, body.name, hash_password(body.password), grants)
    return added.to_json()


@router.delete(
    response_model=None,
    path="/users/{name}",
    status_code=204,
    summary="remove a user and their tokens",
)
def remove_user(name: UserName, ws: Ws, who: Admin) -> Response:
    users.remove_user(ws, who.actor, name)
    return Response(status_code=204)


@router.post(response_model=None, path="/users/{name}/grant", summary="give roles or permissions")
def grant(name: UserName, body: Grants, ws: Ws, who: Admin) -> dict[str, Any]:
    changed = users.change_grants(
        ws, who.actor, name, [parse_grant(g) for g in body.grants], revoke=False
    )
    return {"changed": [g.value for g in changed], "user": users.get_user(ws, name).to_json()}


@router.post(response_model=None, path="/users/{name}/revoke", summary="take roles or permissions")
def revoke(name: UserName, body: Grants, ws: Ws, who: Admin) -> dict[str, Any]:
    changed = users.change_grants(
        ws, who.actor, name, [parse_grant(g) for g in body.grants], revoke=True
    )
    return {"changed": [g.value for g in changed], "user": users.get_user(ws, name).to_json()}


@router.get(
    response_model=None,
    path="/users/{name}/tokens",
    summary="a user's tokens (never their secrets)",
)
def user_tokens(name: UserName, ws: Ws, who: Admin) -> list[dict[str, Any]]:
    now = utcnow()
    return [t.to_json(now) for t in users.tokens(ws, name)]


@router.post(
    response_model=None,
    path="/users/{name}/tokens",
    status_code=201,
    summary="a token for a user, shown once",
)
def add_user_token(name: UserName, body: NewToken, ws: Ws, who: Admin) -> dict[str, Any]:
    perms = _permissions(body, who, cap=False)
    return _issue(ws, who, name, body, perms)


@router.delete(
    response_model=None, path="/users/{name}/tokens/{token_id}", summary="revoke a user's token"
)
def revoke_user_token(name: UserName, token_id: TokenId, ws: Ws, who: Admin) -> dict[str, Any]:
    return users.remove_token(ws, who.actor, token_id, user=name).to_json(utcnow())


@router.get(response_model=None, path="/me/tokens", summary="the caller's tokens")
def my_tokens(ws: Ws, who: Caller) -> list[dict[str, Any]]:
    now = utcnow()
    return [t.to_json(now) for t in users.tokens(ws, who.user)]


@router.post(
    response_model=None,
    path="/me/tokens",
    status_code=201,
    summary="a token for the caller, within this request's",
)
def add_my_token(body: NewToken, ws: Ws, who: Caller) -> dict[str, Any]:
    return _issue(ws, who, who.user, body, _permissions(body, who, cap=True))


@router.delete(
    response_model=None, path="/me/tokens/{token_id}", summary="revoke one of the caller's tokens"
)
def revoke_my_token(token_id: TokenId, ws: Ws, who: Caller) -> dict[str, Any]:
    return users.remove_token(ws, who.actor, token_id, user=who.user).to_json(utcnow())


def _permissions(body: NewToken, who: Principal, *, cap: bool) -> list[Permission] | None:
    """The token's permissions; a caller's own token never exceeds what this request may do."""
    wanted = None if body.permissions is None else [parse_permission(p) for p in body.permissions]
    return capped_permissions(wanted, who.permissions, cap=cap)


def _issue(
    ws: Workspace, who: Principal, user: str, body: NewToken, perms: list[Permission] | None
) -> dict[str, Any]:
    from drkit.users.tokens import parse_expiry

    now = utcnow()
    until = parse_expiry(body.expires_at.isoformat(), now) if body.expires_at else None
    return users.add_token(ws, who.actor, user, body.label, perms, until).to_json(now)
