"""User and token operations, each committed with its configuration version and audit record.

Every face (the `drkit user` commands, the REST API, the dashboard) changes
users through these functions, so each change is one transaction holding the
change, the new version of drkit's configuration (for user changes: tokens
are not configuration) and an audit entry. A change that fails is audited as
failed in a transaction of its own, then the error goes on to the face.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from drkit.catalog.types import utcnow
from drkit.errors import DrkitError
from drkit.services.audit import Actor, audit
from drkit.services.workspace import Workspace
from drkit.users import store
from drkit.users.audit import Outcome
from drkit.users.model import Grant, Permission, User
from drkit.users.tokens import IssuedToken, Token, issue_token, list_tokens, revoke_token

T = TypeVar("T")


@contextmanager
def _audited(
    workspace: Workspace, actor: Actor, action: str, target: str, *, version: str | None
) -> Iterator[Session]:
    """A transaction for one change; ``version``: the configuration version's message."""
    try:
        with workspace.catalog().session() as s:
            yield s
            if version is not None:
                _record_version(workspace, actor, version, s)
            audit(workspace, actor, action, target, Outcome.OK, session=s)
    except DrkitError as exc:
        audit(workspace, actor, action, target, Outcome.FAILED, f"{exc.code}: {exc.message}")
        raise


def _record_version(workspace: Workspace, actor: Actor, message: str, s: Session) -> None:
    from drkit.confighistory.service import History

    history = History(
        workspace.catalog(), workspace.settings, workspace.settings_file, workspace.home
    )
    history.record_drkit(author=actor.name, message=message, session=s)


def _run(
    workspace: Workspace,
    actor: Actor,
    action: str,
    target: str,
    change: Callable[[Session], T],
    *,
    version: str | None = None,
) -> T:
    with _audited(workspace, actor, action, target, version=version) as s:
        return change(s)


def list_users(workspace: Workspace) -> list[User]:
    with workspace.catalog().session() as s:
        return store.list_users(s)


def get_user(workspace: Workspace, name: str) -> User:
    with workspace.catalog().session() as s:
        return store.get_user(s, name)


def add_user(
    workspace: Workspace, actor: Actor, name: str, password_hash: str, grants: list[Grant]
) -> User:
    names = ", ".join(g.value for g in grants) or "nothing"
    return _run(
        workspace,
        actor,
        "user.add",
        name,
        lambda s: store.add_user(s, name, password_hash, grants),
        version=f"user {name} added (granted {names})",
    )


def remove_user(workspace: Workspace, actor: Actor, name: str) -> None:
    _run(
        workspace,
        actor,
        "user.remove",
        name,
        lambda s: store.remove_user(s, name),
        version=f"user {name} removed",
    )


def change_grants(
    workspace: Workspace, actor: Actor, name: str, grants: list[Grant], *, revoke: bool
) -> list[Grant]:
    """Grant or revoke; what actually changed."""
    what = ", ".join(g.value for g in grants)
    message = f"user {name}: revoked {what}" if revoke else f"user {name} granted {what}"
    change = store.revoke if revoke else store.grant
    return _run(
        workspace,
        actor,
        "user.revoke" if revoke else "user.grant",
        f"{name} {what}",
        lambda s: list(change(s, name, grants)),
        version=message,
    )


def set_password(workspace: Workspace, actor: Actor, name: str, password_hash: str) -> None:
    _run(
        workspace,
        actor,
        "user.passwd",
        name,
        lambda s: store.set_password(s, name, password_hash),
        version=f"user {name}: password changed",
    )


def add_token(
    workspace: Workspace,
    actor: Actor,
    user: str,
    label: str,
    permissions: list[Permission] | None,
    expires_at: datetime | None,
) -> IssuedToken:
    """A new token for ``user`` (its secret shown once by the face)."""
    return _run(
        workspace,
        actor,
        "token.add",
        user,
        lambda s: issue_token(s, user, label, permissions, expires_at, utcnow()),
    )


def tokens(workspace: Workspace, user: str | None = None) -> list[Token]:
    with workspace.catalog().session() as s:
        return list_tokens(s, user)


def remove_token(
    workspace: Workspace, actor: Actor, token_id: str, *, user: str | None = None
) -> Token:
    """Revoke a token; with ``user``, only one of that user's."""
    return _run(
        workspace,
        actor,
        "token.revoke",
        token_id,
        lambda s: revoke_token(s, token_id, utcnow(), user=user),
    )
