"""Which verification outcomes still stand: a failure holds until evidence covers it.

A structure check reads no data, so it cannot clear damage a data read
found: a failed rotating read (``read-subset``) is cleared only by a later
read of the damaged packs that finds them good (a rotating read that read
them, or a full ``read-data``); a failed full read only by a later good full
read, or a rotating read of every pack it named. A failed structure check is
cleared by any later good verification (each one checks the structure).

A ``repair`` (``drkit repair index``) is evidence too, by what it read once
the repository was repaired: it re-reads the packs the standing failures
name (every pack when one of them names none, as a full read's does:
``read all packs``), so a good repair covers a failure exactly as a read of
those packs would; a repair that still finds damage is a failure itself.

The packs a read covered travel in the verification's summary, one line
``read packs: ...`` or ``damaged packs: ...``; these functions are the only
ones that write or read those lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

READ_LINE = "read packs: "
DAMAGED_LINE = "damaged packs: "
FULL_READ = "read-data"
SUBSET_READ = "read-subset"
STRUCTURE = "check"
REPAIR = "repair"
ALL_READ_LINE = "read all packs"


@dataclass(frozen=True)
class Outcome:
    """One verification of a repository, oldest first in a sequence."""

    kind: str
    ok: bool
    summary: str


def packs_line(prefix: str, packs: Iterable[str]) -> str:
    names = sorted(set(packs))
    return f"{prefix}{' '.join(names)}" if names else ""


def packs_in(summary: str, prefix: str) -> frozenset[str]:
    for line in summary.splitlines():
        if line.startswith(prefix):
            return frozenset(line[len(prefix) :].split())
    return frozenset()


def covers(good: Outcome, failure: Outcome) -> bool:
    """Whether the good outcome ``good`` is evidence that ``failure`` no longer holds."""
    if good.kind == FULL_READ or (good.kind == REPAIR and ALL_READ_LINE in good.summary):
        return True
    if failure.kind == STRUCTURE:
        return True
    if good.kind not in (SUBSET_READ, REPAIR):
        return False
    damaged = packs_in(failure.summary, DAMAGED_LINE)
    return bool(damaged) and damaged <= packs_in(good.summary, READ_LINE)


def packs_to_reread(outcomes: Sequence[Outcome]) -> frozenset[str] | None:
    """The packs a repair must read to cover every standing failure; None: every pack.

    A structure failure needs no pack read (the repair's own structure check covers it);
    a read that named its damaged packs needs those; one that named none, all of them.
    """
    wanted: set[str] = set()
    for index in standing_failures(outcomes):
        failure = outcomes[index]
        if failure.kind == STRUCTURE:
            continue
        damaged = packs_in(failure.summary, DAMAGED_LINE)
        if not damaged:
            return None
        wanted |= damaged
    return frozenset(wanted)


def standing_failures(outcomes: Sequence[Outcome]) -> list[int]:
    """Indexes of the failures in ``outcomes`` that no later good outcome covers."""
    standing: list[int] = []
    for index, outcome in enumerate(outcomes):
        if outcome.ok:
            standing = [i for i in standing if not covers(outcome, outcomes[i])]
        else:
            standing.append(index)
    return standing
