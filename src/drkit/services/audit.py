"""Auditing an action of any face: who, through what, from where, and the outcome.

:func:`audited` wraps an action that commits on its own; the user operations
(:mod:`drkit.services.users`) write their entry in the change's own transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from drkit.catalog.types import utcnow
from drkit.errors import DrkitError
from drkit.services.workspace import Workspace
from drkit.users.audit import AuditEntry, Outcome, record


@dataclass(frozen=True)
class Actor:
    """Who acts: a user name (or the OS user on the CLI), through what, from where."""

    name: str
    via: str  # cli, token:ID, session
    origin: str  # client address, or host:NAME


def audit(
    workspace: Workspace,
    actor: Actor,
    action: str,
    target: str,
    outcome: Outcome,
    detail: str = "",
    session: Session | None = None,
) -> None:
    """One audit entry, in ``session`` or a transaction of its own."""
    entry = AuditEntry(actor.name, actor.via, actor.origin, action, target, outcome, detail)
    if session is not None:
        record(session, entry, utcnow())
        return
    with workspace.catalog().session() as s:
        record(s, entry, utcnow())


@contextmanager
def audited(workspace: Workspace, actor: Actor, action: str, target: str) -> Iterator[None]:
    """Audit the block: ok when it ends, failed (with the error's code) when it raises."""
    try:
        yield
    except DrkitError as exc:
        audit(workspace, actor, action, target, Outcome.FAILED, f"{exc.code}: {exc.message}")
        raise
    audit(workspace, actor, action, target, Outcome.OK)
