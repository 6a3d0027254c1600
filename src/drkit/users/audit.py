"""The audit log: who did what, when, from where, and with what outcome.

Every change and action through the REST API, the dashboard and the user
commands is one row in the catalog (``audit_log``). Recording works inside the
caller's transaction when the change succeeded (so the change and its record
commit together), or in a transaction of its own for a denial or a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from drkit.users.tables import AuditRow


class Outcome(StrEnum):
    OK = "ok"
    DENIED = "denied"  # not authenticated, or without the permission
    FAILED = "failed"  # allowed, but the operation failed (the error code is the detail)


@dataclass(frozen=True)
class AuditEntry:
    actor: str  # a user name; "anonymous" when nobody was authenticated
    via: str  # cli, token:ID, session
    origin: str  # the client's address, or "host:NAME" for the CLI
    action: str  # user.add, token.revoke, alert.acknowledge, ...
    target: str
    outcome: Outcome
    detail: str = ""
    at: datetime | None = None
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The shape of `drkit audit --json` and of the API."""
        return {
            "id": self.id,
            "at": self.at.isoformat() if self.at else None,
            "actor": self.actor,
            "via": self.via,
            "origin": self.origin,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome.value,
            "detail": self.detail,
        }


def record(s: Session, entry: AuditEntry, now: datetime) -> None:
    s.add(
        AuditRow(
            at=now,
            actor=entry.actor[:200],
            via=entry.via[:50],
            origin=entry.origin[:200],
            action=entry.action[:100],
            target=entry.target[:500],
            outcome=entry.outcome.value,
            detail=entry.detail,
        )
    )
    s.flush()


def entries(
    s: Session, *, limit: int = 100, actor: str | None = None, action: str | None = None
) -> list[AuditEntry]:
    """The newest entries first, optionally of one actor or one action (prefix: ``user.``)."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    if action is not None:
        query = query.where(AuditRow.action.startswith(action))
    return [
        AuditEntry(
            row.actor,
            row.via,
            row.origin,
            row.action,
            row.target,
            Outcome(row.outcome),
            row.detail,
            row.at,
            row.id,
        )
        for row in s.scalars(query)
    ]
