"""The recovery point of a physical source, as the daemon's archive check records it.

``drkit pg check --json`` measures how far the source's base backups and its
gap-free WAL recover (:mod:`drkit.sources.wal_rpo`); the daemon stores that
in the archive-check verification's summary, three lines written and read
only here, and the monitor counts it in the source's RPO. Between two checks
the recorded point only ages: a stopped archive makes the RPO grow until it
alerts, and a gap found by the next check moves the point back to before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TIME_LINE = "recovery point: "
GAP_LINE = "recovery gap: "
TEXT_LINE = "recovery: "
NO_POINT = "none"


@dataclass(frozen=True)
class RecoveryFact:
    time: datetime | None  # None: no base backup recovers
    gap: str | None  # the first missing or damaged segment that ends the chain early
    text: str  # the sentence that says so


def recovery_lines(doc: Mapping[str, Any]) -> list[str]:
    """The summary lines for a pg check's JSON output (none when it measured nothing)."""
    point = doc.get("recovery_point")
    if not isinstance(point, dict):
        return []
    lines = [TIME_LINE + str(point.get("time") or NO_POINT), TEXT_LINE + str(point.get("text"))]
    return lines + ([GAP_LINE + str(point["gap"])] if point.get("gap") else [])


def parse_recovery(summary: str) -> RecoveryFact | None:
    found = {
        p: line[len(p) :] for line in summary.splitlines() for p in _PREFIXES if line.startswith(p)
    }
    if TIME_LINE not in found:
        return None
    raw = found[TIME_LINE]
    when = None if raw == NO_POINT else datetime.fromisoformat(raw)
    return RecoveryFact(when, found.get(GAP_LINE), found.get(TEXT_LINE, ""))


_PREFIXES = (TIME_LINE, GAP_LINE, TEXT_LINE)
