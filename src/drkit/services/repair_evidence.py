"""What a repair proves: re-reading the damage the open verification failures name.

``drkit repair index`` fixes the index; whether that fixed what a check or a
read found is only known by reading again. After the repair, and still under
its lock, the packs the standing failures of that repository name are read
in full (every pack when a failure names none; none for a structure failure,
which the structure check covers), and the outcome is recorded as a
verification of kind ``repair``: good, it covers those failures and the
``verify:REPO`` alert resolves (:mod:`drkit.monitor.evidence`); damaged, it
is a failure of its own and the alert stays.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.tables import VerificationRow
from drkit.monitor.evidence import (
    ALL_READ_LINE,
    DAMAGED_LINE,
    READ_LINE,
    REPAIR,
    Outcome,
    packs_line,
    packs_to_reread,
    standing_failures,
)
from drkit.monitor.facts import STRUCTURE_KINDS
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.verify.subset import read_packs


@dataclass(frozen=True)
class RepairEvidence:
    """What the re-read after a repair found."""

    repository: str
    failures: int  # standing verification failures before the repair
    packs: frozenset[str] | None  # what was read (None: every pack)
    damaged: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.damaged and not self.problems

    def summary(self) -> str:
        lines = [*self.problems, *(f"pack {p} is still damaged" for p in self.damaged)]
        lines.append(packs_line(DAMAGED_LINE, self.damaged))
        return "\n".join(line for line in lines if line)


def standing(catalog: Catalog, repository: str) -> list[Outcome]:
    """The repository's verifications, oldest first (as the monitor reads them)."""
    with catalog.session() as session:
        rows = session.scalars(
            select(VerificationRow)
            .where(VerificationRow.repository == repository)
            .where(VerificationRow.kind.in_(STRUCTURE_KINDS))
            .order_by(VerificationRow.started_at, VerificationRow.id)
        ).all()
        return [Outcome(r.kind, r.ok, r.summary) for r in rows]


def verify_repair(
    catalog: Catalog, repository: str, repo: Repository, progress: Progress | None = None
) -> RepairEvidence | None:
    """Re-read what the standing failures name and record it; None when nothing stands."""
    outcomes = standing(catalog, repository)
    failures = standing_failures(outcomes)
    if not failures:
        return None
    wanted = packs_to_reread(outcomes)
    started, t0 = datetime.now(UTC), time.monotonic()
    results, problems = read_packs(repo, wanted, progress=progress)
    evidence = RepairEvidence(
        repository,
        len(failures),
        wanted,
        tuple(r.name for r in results if not r.ok),
        problems,
    )
    read = packs_line(READ_LINE, (r.name for r in results if r.ok))
    summary = "\n".join(
        line for line in (evidence.summary(), read, ALL_READ_LINE if wanted is None else "") if line
    )
    with catalog.session() as session:
        session.add(
            VerificationRow(
                repository=repository,
                subject="",
                kind=REPAIR,
                ok=evidence.ok,
                started_at=started,
                duration_s=time.monotonic() - t0,
                snapshot_id=None,
                summary=summary,
            )
        )
    return evidence
