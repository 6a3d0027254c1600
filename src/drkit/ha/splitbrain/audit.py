"""The audit trail of manual HA actions, kept in the DCS history (survives restarts).

Every override, pause, resume, fence and unfence is one record: who, when,
why, on which site, until when, and what the automatic decision would have
been at that moment (so a review sees what the operator overruled). Records
carry ``kind: "audit"`` and live beside the failover records in
``history/``; :func:`audit_trail` reads them back, oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from drkit.errors import DrkitError
from drkit.ha.drivers.dcs.base import DCS, ClusterView, Record
from drkit.ha.splitbrain.facts import Override
from drkit.ha.splitbrain.resolve import Resolution

AUDIT_KIND = "audit"


class AuditError(DrkitError):
    code = "ha-audit"
    exit_code = 2


class ManualAction(StrEnum):
    OVERRIDE = "override"
    LIFT_OVERRIDE = "lift-override"
    PAUSE = "pause"
    RESUME = "resume"
    FENCE = "fence"
    UNFENCE = "unfence"


@dataclass(frozen=True)
class AuditEntry:
    action: ManualAction
    who: str
    at: float
    reason: str
    site: str | None = None
    """The site acted on (the forced primary, the fenced site); None for pause/resume."""
    automatic: str = ""
    """What the automatic decision was at that moment, in its sentence."""
    automatic_outcome: str = ""
    against_quorum: str | None = None
    """The warning, when the action went against the quorum."""
    expires_at: float | None = None

    def record(self) -> Record:
        return {
            "kind": AUDIT_KIND,
            "action": self.action.value,
            "who": self.who,
            "at": self.at,
            "reason": self.reason,
            "site": self.site,
            "automatic": self.automatic,
            "automatic_outcome": self.automatic_outcome,
            "against_quorum": self.against_quorum,
            "expires_at": self.expires_at,
        }


def entry(
    action: ManualAction,
    *,
    who: str,
    at: float,
    reason: str,
    automatic: Resolution,
    site: str | None = None,
    expires_at: float | None = None,
    against_quorum: str | None = None,
) -> AuditEntry:
    """One entry; refuses an anonymous or unexplained action (the trail must say who and why)."""
    if not who.strip():
        raise AuditError("a manual HA action needs who did it", hint="pass --who or set USER")
    if not reason.strip():
        raise AuditError(f"{action.value} needs a reason", hint="pass --reason TEXT")
    if action in (ManualAction.OVERRIDE, ManualAction.FENCE, ManualAction.UNFENCE) and not site:
        raise AuditError(f"{action.value} needs a site")
    if expires_at is not None and expires_at <= at:
        raise AuditError("the expiry must be in the future")
    return AuditEntry(
        action,
        who,
        at,
        reason,
        site,
        automatic.sentence,
        automatic.outcome.value,
        against_quorum,
        expires_at,
    )


def record_action(dcs: DCS, item: AuditEntry) -> None:
    """Append to the DCS history (DCSUnavailable propagates: an unrecorded action is not done)."""
    dcs.append_history(item.record())


def parse_entry(record: Mapping[str, Any]) -> AuditEntry | None:
    """An entry from its record (etcd's or the catalog's copy); None when unreadable."""
    try:
        return AuditEntry(
            ManualAction(record["action"]),
            str(record["who"]),
            float(record["at"]),
            str(record.get("reason", "")),
            record.get("site"),
            str(record.get("automatic", "")),
            str(record.get("automatic_outcome", "")),
            record.get("against_quorum"),
            None if record.get("expires_at") is None else float(record["expires_at"]),
        )
    except (KeyError, ValueError, TypeError):
        return None


def audit_trail(view: ClusterView) -> tuple[AuditEntry, ...]:
    """Every readable audit record, oldest first (failover records and junk are skipped)."""
    found = (parse_entry(r) for r in view.history if r.get("kind") == AUDIT_KIND)
    # in time order: entries put back from the catalog after an etcd wipe come after
    # newer ones in etcd's own order
    return tuple(sorted((e for e in found if e is not None), key=lambda e: e.at))


def active_override(trail: tuple[AuditEntry, ...], now: float) -> Override | None:
    """The override in force: the last override not lifted since and not expired."""
    for item in reversed(trail):
        if item.action is ManualAction.LIFT_OVERRIDE:
            return None
        if item.action is ManualAction.OVERRIDE and item.site:
            if item.expires_at is not None and item.expires_at <= now:
                return None
            return Override(item.site, item.who, item.reason, item.at)
    return None


def fenced_sites(trail: tuple[AuditEntry, ...]) -> frozenset[str]:
    """Sites fenced by hand and not unfenced since."""
    fenced: set[str] = set()
    for item in trail:
        if item.site and item.action is ManualAction.FENCE:
            fenced.add(item.site)
        elif item.site and item.action is ManualAction.UNFENCE:
            fenced.discard(item.site)
    return frozenset(fenced)
