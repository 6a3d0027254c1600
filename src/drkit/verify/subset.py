"""The rotating read-data subset: read every pack at least once per period, a slice per run.

A full ``check --read-data`` of a large repository takes hours; reading a
slice of it on every scheduled run spreads that cost. This module owns the
choice of the slice and the run that reads it:

- :func:`plan_rotation` is a pure function of the packs, when each was last
  read intact (from a :class:`PackCheckLedger`), the time, the period and
  the run interval. It gives each pack a deadline, forces the packs that
  the next run would be too late for, and reads enough beyond them (by
  bytes or count) that the work is spread evenly: never-checked packs
  first, then the least recently checked.
- :func:`run_subset_check` lists the packs, plans, reads the chosen ones
  with the repository's own :class:`~drkit.repository.check.Checker`
  (structure check included), records the result of every pack read in the
  ledger and returns a typed :class:`SubsetCheckResult`.

The ledger is a protocol; the daemon and the CLI keep it in the catalog
(:mod:`drkit.verify.ledger_catalog`), the tests also in memory.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from drkit.errors import UsageError
from drkit.repository.check import Checker, CheckReport, PackSubset, Problem
from drkit.repository.locks import RepoLock
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.storage.base import FileKind


class Budget(StrEnum):
    """What a run's share is measured in: pack bytes (even read time) or pack count."""

    BYTES = "bytes"
    COUNT = "count"


class PackStatus(StrEnum):
    OK = "ok"
    DAMAGED = "damaged"


@dataclass(frozen=True)
class PackInfo:
    """A stored pack: its name (the BLAKE3 of its content) and size in bytes."""

    name: str
    size: int


@dataclass(frozen=True)
class PackCheckResult:
    """The outcome of reading one pack in full."""

    name: str
    size: int
    checked_at: datetime
    status: PackStatus
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is PackStatus.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.name,
            "size": self.size,
            "checked_at": self.checked_at.isoformat(),
            "status": self.status.value,
            "problems": list(self.problems),
        }


class PackCheckLedger(Protocol):
    """Remembers, per repository id, when each pack was last read intact.

    ``record`` is given every pack read by a run; an implementation keeps
    ``checked_at`` as the new last good read for the ``ok`` ones and leaves
    a damaged pack's earlier time as it was (so it stays at the front of the
    rotation). Keep the entries of packs that no longer exist for at least a
    period: the oldest entry anchors the deadline of never-checked packs.
    """

    def last_checked(self, repository_id: str) -> Mapping[str, datetime]:
        """Pack name -> time of its last good read."""
        ...

    def record(self, repository_id: str, results: Sequence[PackCheckResult]) -> None:
        """Store the results of one run."""
        ...


# -- planning -------------------------------------------------------------------------


def plan_rotation(
    packs: Sequence[PackInfo],
    last: Mapping[str, datetime],
    now: datetime,
    period: timedelta,
    interval: timedelta,
    by: Budget = Budget.BYTES,
) -> list[str]:
    """The packs to read in the run at ``now``, most urgent first.

    Runs happen every ``interval``; each pack must be read again before
    ``period`` has passed since its last good read. A never-checked pack
    shares the deadline of the oldest read (one period from now when nothing
    was read yet; ``last`` may name packs no longer stored), so a first
    rotation spreads over a period and, once it has gone round, new packs
    are read at the next run.

    Each pack gets ``slots``: how many runs, this one included, remain
    before its deadline. Packs with one slot left are always read. The
    share is the smallest that meets every deadline if the runs read evenly:
    the largest ``weight of packs due within j runs / j``. It is filled
    with never-checked packs first, then the least recently checked.
    """
    _check_cadence(period, interval)
    runs = max(1, math.ceil(period / interval) - 1)
    slots = _slots(packs, last, now, period, interval, runs)
    weight = _weigher(by)
    share = _share(packs, slots, weight, runs)
    ordered = _by_priority(packs, last)
    chosen = {p.name: None for p in ordered if slots[p.name] == 1}  # a dict keeps the order
    total = sum(weight(p) for p in packs if p.name in chosen)
    for p in ordered:
        if total >= share:
            break
        if p.name not in chosen:
            chosen[p.name] = None
            total += weight(p)
    return list(chosen)


def _check_cadence(period: timedelta, interval: timedelta) -> None:
    if period <= timedelta(0) or interval <= timedelta(0):
        raise UsageError(
            f"invalid rotation: period {period}, interval {interval}",
            hint="both must be longer than zero, e.g. --period 30d --interval 1d",
        )


def _slots(
    packs: Sequence[PackInfo],
    last: Mapping[str, datetime],
    now: datetime,
    period: timedelta,
    interval: timedelta,
    runs: int,
) -> dict[str, int]:
    """Pack -> runs left before its deadline, this run included (1 = must read now)."""
    # The oldest read anchors the rotation; entries of packs pruned since count too, so the
    # anchor does not drift later (and new packs wait longer) as read packs disappear.
    unchecked_deadline = min(min(last.values(), default=now), now) + period
    slots = {}
    for p in packs:
        deadline = last[p.name] + period if p.name in last else unchecked_deadline
        left = math.ceil((deadline - now) / interval)
        slots[p.name] = min(max(left, 1), runs)
    return slots


_Weight = Callable[[PackInfo], int]


def _weigher(by: Budget) -> _Weight:
    if by is Budget.COUNT:
        return lambda p: 1
    return lambda p: max(p.size, 1)


def _share(packs: Sequence[PackInfo], slots: dict[str, int], weight: _Weight, runs: int) -> int:
    """The weight this run must read so that, read evenly, every pack meets its deadline."""
    due_within = [0] * (runs + 1)
    for p in packs:
        due_within[slots[p.name]] += weight(p)
    share, cumulative = 0, 0
    for j in range(1, runs + 1):
        cumulative += due_within[j]
        share = max(share, math.ceil(cumulative / j))
    return share


def _by_priority(packs: Sequence[PackInfo], last: Mapping[str, datetime]) -> list[PackInfo]:
    never = sorted((p for p in packs if p.name not in last), key=lambda p: p.name)
    seen = sorted((p for p in packs if p.name in last), key=lambda p: (last[p.name], p.name))
    return never + seen


# -- running --------------------------------------------------------------------------


@dataclass(frozen=True)
class SubsetCheckResult:
    """One rotation run: which packs were read and how each fared, and the coverage after it."""

    repository_id: str
    started_at: datetime
    duration_s: float
    packs_total: int
    bytes_total: int
    results: tuple[PackCheckResult, ...]
    other_problems: tuple[str, ...]  # structure errors not tied to a pack read now
    overdue: tuple[str, ...]  # packs without a good read within the period, after this run
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results) and not self.other_problems

    @property
    def bytes_read(self) -> int:
        return sum(r.size for r in self.results)

    @property
    def damaged(self) -> tuple[PackCheckResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "repository_id": self.repository_id,
            "started_at": self.started_at.isoformat(),
            "duration_s": round(self.duration_s, 6),
            "packs_total": self.packs_total,
            "bytes_total": self.bytes_total,
            "packs_read": len(self.results),
            "bytes_read": self.bytes_read,
            "results": [r.to_json() for r in self.results],
            "other_problems": list(self.other_problems),
            "overdue": list(self.overdue),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Rotation:
    """The cadence of a rotating read: every pack once per ``period``, a run every ``interval``."""

    period: timedelta
    interval: timedelta
    by: Budget = Budget.BYTES


def run_subset_check(
    repo: Repository,
    ledger: PackCheckLedger,
    rotation: Rotation,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> SubsetCheckResult:
    """Check the structure and read this run's share of packs, under a shared lock.

    ``repo`` is opened without its index (the checker loads it). The results
    of the packs read are recorded in ``ledger`` before returning.
    """
    now = now or datetime.now(UTC)
    repo_id = repo.config.id
    t0 = time.monotonic()
    with RepoLock(repo, exclusive=False, operation="verify subset"):
        packs = [PackInfo(i.name, i.size) for i in repo.backend.list(FileKind.PACK)]
        last = ledger.last_checked(repo_id)
        chosen = plan_rotation(packs, last, now, rotation.period, rotation.interval, rotation.by)
        report = Checker(repo, read_data=PackSubset.of(chosen), progress=progress).run()
    results = _pack_results(repo, report, packs, chosen, now)
    ledger.record(repo_id, results)
    return SubsetCheckResult(
        repository_id=repo_id,
        started_at=now,
        duration_s=time.monotonic() - t0,
        packs_total=len(packs),
        bytes_total=sum(p.size for p in packs),
        results=tuple(results),
        other_problems=_unattributed(repo, report, set(chosen)),
        overdue=_overdue(packs, {**last, **_good(results)}, now, rotation.period),
        warnings=tuple(w.message for w in report.warnings),
    )


def read_packs(
    repo: Repository,
    names: frozenset[str] | None,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> tuple[list[PackCheckResult], tuple[str, ...]]:
    """Check the structure and read the packs ``names`` (None: every pack) in full.

    The caller holds the lock. Gives each stored pack's result (a named pack that is
    no longer stored is not read), and the problems not tied to a pack read.
    """
    now = now or datetime.now(UTC)
    packs = [PackInfo(i.name, i.size) for i in repo.backend.list(FileKind.PACK)]
    chosen = sorted(p.name for p in packs if names is None or p.name in names)
    subset = PackSubset() if names is None else PackSubset.of(chosen)
    report = Checker(repo, read_data=subset, progress=progress).run()
    results = _pack_results(repo, report, packs, chosen, now)
    return results, _unattributed(repo, report, set(chosen))


def _pack_results(
    repo: Repository,
    report: CheckReport,
    packs: Sequence[PackInfo],
    chosen: list[str],
    now: datetime,
) -> list[PackCheckResult]:
    sizes = {p.name: p.size for p in packs}
    problems: dict[str, list[str]] = {name: [] for name in chosen}
    for problem in report.errors:
        pack = _pack_of(repo, problem)
        if pack in problems:
            problems[pack].append(problem.message)
    return [
        PackCheckResult(
            name,
            sizes[name],
            now,
            PackStatus.DAMAGED if found else PackStatus.OK,
            tuple(found),
        )
        for name, found in problems.items()
    ]


def _pack_of(repo: Repository, problem: Problem) -> str | None:
    """The pack a problem is about: named directly, or the pack holding a damaged blob."""
    if problem.kind == "pack":
        return problem.name
    if problem.kind == "blob":
        loc = repo.index.get(bytes.fromhex(problem.name))
        return loc.pack if loc is not None else None
    return None


def _unattributed(repo: Repository, report: CheckReport, chosen: set[str]) -> tuple[str, ...]:
    return tuple(p.message for p in report.errors if _pack_of(repo, p) not in chosen)


def _good(results: Sequence[PackCheckResult]) -> dict[str, datetime]:
    return {r.name: r.checked_at for r in results if r.ok}


def _overdue(
    packs: Sequence[PackInfo], last: Mapping[str, datetime], now: datetime, period: timedelta
) -> tuple[str, ...]:
    return tuple(sorted(p.name for p in packs if p.name not in last or now - last[p.name] > period))
