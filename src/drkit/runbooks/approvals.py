"""Who may decide a waiting step, and the run's record of every decision and refusal.

A manual step (a ``manual:`` block, or ``action: manual``) is a gate: its
``approvers`` (drkit user names; none means any user with the ``approve``
permission) and ``not_by_starter`` (the approver is not the user who started
the run). :func:`refusal` is the rule as a pure function; the approval
service (:mod:`drkit.services.runbook_approval`) signs the user in first.

Every decision, and every refused attempt, is kept in the run's result under
``approvals`` (oldest first), next to ``started_by``: ``drkit runs show
RUN --json`` and the API's run show them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.tables import RunRow
from drkit.runbooks.model import Runbook, Step

STARTED_BY = "started_by"
APPROVALS = "approvals"
MANUAL_TRIGGERS = frozenset({"manual", "rerun"})
"""Runs a person starts; a scheduled run (the daemon's) has no starter to tell apart."""


@dataclass(frozen=True)
class Gate:
    """What a manual step asks of whoever decides it."""

    approvers: tuple[str, ...] | None
    not_by_starter: bool = False


def gate_of(step: Step) -> Gate | None:
    """The step's gate; None for a step that waits for nobody."""
    if step.manual is not None:
        approvers = step.manual.approvers
        return Gate(tuple(approvers) if approvers else None, step.manual.not_by_starter)
    if step.action == "manual":
        names = step.with_.get("approvers")
        listed = tuple(str(n) for n in names) if isinstance(names, list) and names else None
        return Gate(listed, step.with_.get("not_by_starter") is True)
    return None


def needs_signed_in_starter(runbook: Runbook) -> bool:
    """Whether a step's approver must differ from the starter (so the starter must be known)."""
    gates = (gate_of(step) for step in runbook.all_steps())
    return any(gate is not None and gate.not_by_starter for gate in gates)


def refusal(gate: Gate, user: str, *, may_approve: bool, starter: str | None) -> str | None:
    """Why ``user`` may not decide a step behind ``gate``; None when they may."""
    if not may_approve:
        return f"user {user!r} does not have the approve permission"
    if gate.approvers and user not in gate.approvers:
        return f"user {user!r} is not an approver of this step ({', '.join(gate.approvers)})"
    if gate.not_by_starter and starter == user:
        return f"user {user!r} started the run, and this step needs another approver"
    return None


class Verdict(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    REFUSED = "refused"  # the attempt was refused: nothing was decided


@dataclass(frozen=True)
class DecisionRecord:
    """One decision or refused attempt, as the run keeps it."""

    step: str
    user: str  # the signed-in user, or the user named by a failed sign-in ("anonymous": none)
    via: str  # token:ID, password, session
    verdict: Verdict
    at: datetime
    reason: str = ""  # why it was refused
    comment: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "user": self.user,
            "via": self.via,
            "verdict": self.verdict.value,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "comment": self.comment,
        }


def starter(result: Mapping[str, Any]) -> str | None:
    """The signed-in user who started the run (None: nobody signed in, or the schedule)."""
    found = result.get(STARTED_BY)
    return found if isinstance(found, str) else None


def record(catalog: Catalog, run_id: int, entry: DecisionRecord) -> None:
    """Append ``entry`` to the run's ``approvals`` (the row locked: the runner writes too,
    and refusals may come at once)."""
    with catalog.write_session() as session:
        row = session.scalars(select(RunRow).where(RunRow.id == run_id).with_for_update()).one()
        result = json.loads(row.result_json or "{}")
        result[APPROVALS] = [*result.get(APPROVALS, []), entry.to_json()]
        row.result_json = json.dumps(result, default=str)
