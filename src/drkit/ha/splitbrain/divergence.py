"""The divergence report for a rejoin: where an old primary's history forked from the new one.

PostgreSQL's timeline history file of the new primary says at which LSN it
left the old timeline (``<tli>\\t<switch lsn>\\t<reason>`` per line). Every
WAL the old primary wrote past that LSN on the old timeline exists only there:
that range is what a rewind would discard, so it is reported, never dropped
silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from drkit.errors import DrkitError


class DivergenceError(DrkitError):
    code = "ha-divergence"
    exit_code = 3


@dataclass(frozen=True)
class Divergence:
    old_site: str
    new_site: str
    old_timeline: int
    new_timeline: int
    fork_lsn: int
    """Where the new primary left the old timeline."""
    old_end_lsn: int
    """The old primary's last LSN."""

    @property
    def diverged_bytes(self) -> int:
        return max(0, self.old_end_lsn - self.fork_lsn)

    @property
    def diverged(self) -> bool:
        return self.diverged_bytes > 0

    def sentence(self) -> str:
        if not self.diverged:
            return (
                f"{self.old_site} did not write past the fork at {format_lsn(self.fork_lsn)}"
                f" (timeline {self.old_timeline}): nothing to reconcile"
            )
        return (
            f"{self.old_site} wrote {self.diverged_bytes} bytes of WAL on timeline "
            f"{self.old_timeline} from {format_lsn(self.fork_lsn)} to "
            f"{format_lsn(self.old_end_lsn)} after {self.new_site} forked onto timeline "
            f"{self.new_timeline}: reconcile these writes before a rewind discards them"
        )


def parse_lsn(text: str) -> int:
    try:
        high, low = text.strip().split("/")
        return int(high, 16) << 32 | int(low, 16)
    except ValueError as exc:
        raise DivergenceError(f"not an LSN: {text!r}") from exc


def format_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def fork_point(history: str, old_timeline: int) -> int:
    """The LSN where the history file says ``old_timeline`` was left."""
    for line in history.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit() and int(parts[0]) == old_timeline:
            return parse_lsn(parts[1])
    raise DivergenceError(
        f"the timeline history does not say where timeline {old_timeline} was left",
        hint="the two servers may not share a history: re-clone instead of rewinding",
    )


def divergence(
    *,
    old_site: str,
    old_timeline: int,
    old_end_lsn: int,
    new_site: str,
    new_timeline: int,
    new_history: str,
) -> Divergence:
    """The report for rejoining ``old_site`` under ``new_site``.

    ``new_history`` is the new timeline's history file (``<new_timeline>.history``).
    """
    if new_timeline <= old_timeline:
        raise DivergenceError(
            f"{new_site} is on timeline {new_timeline}, not past {old_site}'s {old_timeline}",
            hint="the primary to keep must have the newer timeline",
        )
    fork = fork_point(new_history, old_timeline)
    return Divergence(old_site, new_site, old_timeline, new_timeline, fork, old_end_lsn)
