"""plan_rotation: which packs a rotating read-data run reads (a pure function, table-tested).

The simulations run the planner day after day against a growing and pruned
set of packs and check the promise: no pack, new or old, goes longer than
the period without a good read.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from drkit.errors import UsageError
from drkit.verify.subset import Budget, PackInfo, plan_rotation

NOW = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MONTH = timedelta(days=30)


def packs(*names: str, size: int = 1) -> list[PackInfo]:
    return [PackInfo(n, size) for n in names]


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


# -- tables ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    packs: list[PackInfo]
    last: dict[str, datetime]
    expected: list[str]
    period: timedelta = MONTH
    interval: timedelta = DAY
    by: Budget = Budget.COUNT


TEN = [f"p{i}" for i in range(10)]

CASES = [
    Case("nothing to read", [], {}, []),
    # 29 runs fit in a period (the 30th would be one day late): ceil(10 / 29) = 1
    Case("first run spreads never-checked packs", packs(*TEN), {}, ["p0"]),
    Case(
        "first run of 60 packs reads ceil(60 / 29)",
        packs(*(f"q{i:02}" for i in range(60))),
        {},
        ["q00", "q01", "q02"],
    ),
    Case("period equal to the interval reads all", packs("b", "a"), {}, ["a", "b"], period=DAY),
    Case("period shorter than the interval reads all", packs("a", "b"), {}, ["a", "b"], DAY, MONTH),
    Case(
        "a pack due before the next run is read even beyond the share",
        packs("fresh1", "fresh2", "due"),
        {"fresh1": ago(1), "fresh2": ago(1), "due": ago(29.5)},
        ["due"],
    ),
    Case(
        "an overdue pack is read",
        packs("old", "new1"),
        {"old": ago(45), "new1": ago(2)},
        ["old"],
    ),
    Case(
        "never-checked before the oldest checked",
        packs("checked-long-ago", "never"),
        {"checked-long-ago": ago(10)},
        ["never"],
    ),
    Case(
        "then the least recently checked",
        packs("a", "b", "c"),
        {"a": ago(3), "b": ago(5), "c": ago(4)},
        ["b"],
    ),
    Case(
        "new packs share the oldest read's deadline: read with it",
        packs("new", "oldest", "recent"),
        {"oldest": ago(29.2), "recent": ago(1)},
        ["new", "oldest"],
    ),
    Case(
        "a read time in the future counts as now",
        packs("skewed", "never"),
        {"skewed": NOW + DAY},
        ["never"],
    ),
    Case(
        "by bytes: one big pack is a run's whole share",
        [PackInfo("big", 29 * 100), *packs(*(f"s{i:02}" for i in range(29)), size=100)],
        {},
        ["big"],
        by=Budget.BYTES,
    ),
    Case(
        "by count: the same packs, two of them",
        [PackInfo("big", 29 * 100), *packs(*(f"s{i:02}" for i in range(29)), size=100)],
        {},
        ["big", "s00"],
    ),
    Case(
        "by bytes: small packs fill the share of a big one",
        [PackInfo("big", 29 * 100), *packs(*(f"s{i:02}" for i in range(29)), size=100)],
        {"big": ago(1)},
        ["s00", "s01"],
        by=Budget.BYTES,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_plan(case: Case) -> None:
    got = plan_rotation(case.packs, case.last, NOW, case.period, case.interval, case.by)
    assert got == case.expected


def test_packs_no_longer_stored_are_not_read() -> None:
    assert plan_rotation(packs("a"), {"gone": ago(100), "a": ago(1)}, NOW, DAY, DAY) == ["a"]


def test_the_oldest_entry_anchors_new_packs_even_when_its_pack_is_gone() -> None:
    new = [f"new{i:02}" for i in range(29)]
    anchored = plan_rotation(packs(*new), {"gone": ago(29.5)}, NOW, MONTH, DAY)
    assert anchored == new  # due with the oldest read: all now
    assert plan_rotation(packs(*new), {}, NOW, MONTH, DAY) == ["new00"]  # a first rotation


@pytest.mark.parametrize(
    ("period", "interval"), [(timedelta(0), DAY), (MONTH, timedelta(0)), (-DAY, DAY)]
)
def test_cadence_must_be_positive(period: timedelta, interval: timedelta) -> None:
    with pytest.raises(UsageError):
        plan_rotation(packs("a"), {}, NOW, period, interval)


# -- simulations ----------------------------------------------------------------------


@dataclass
class Sim:
    """Packs appear and disappear; the planner runs every interval; every read is good."""

    period: timedelta
    interval: timedelta
    by: Budget
    rng: random.Random = field(default_factory=lambda: random.Random(5))
    sizes: dict[str, int] = field(default_factory=dict)
    born: dict[str, datetime] = field(default_factory=dict)
    last: dict[str, datetime] = field(default_factory=dict)
    first_read: dict[str, datetime] = field(default_factory=dict)
    longest_gap: timedelta = timedelta(0)
    per_run: list[int] = field(default_factory=list)

    def add(self, n: int, when: datetime) -> None:
        for _ in range(n):
            name = f"{self.rng.getrandbits(256):064x}"
            self.sizes[name] = self.rng.randrange(4, 64) << 20
            self.born[name] = when

    def prune_oldest(self, n: int) -> None:
        """Remove packs; the ledger keeps their entries, as the protocol asks."""
        for name in sorted(self.sizes, key=lambda p: (self.born[p], p))[:n]:
            del self.sizes[name]

    def run(self, now: datetime) -> None:
        infos = [PackInfo(n, s) for n, s in self.sizes.items()]
        chosen = plan_rotation(infos, self.last, now, self.period, self.interval, self.by)
        assert len(set(chosen)) == len(chosen)
        self.per_run.append(len(chosen))
        for name in chosen:
            previous = self.last.get(name, self.born[name])
            self.longest_gap = max(self.longest_gap, now - previous)
            self.first_read.setdefault(name, now)
            self.last[name] = now

    def unread_too_long(self, now: datetime) -> list[str]:
        return [n for n in self.sizes if now - self.last.get(n, self.born[n]) >= self.period]


def simulate(
    *,
    initial: int,
    added: int,
    pruned: int,
    runs: int,
    period: timedelta = MONTH,
    interval: timedelta = DAY,
    by: Budget = Budget.COUNT,
) -> Sim:
    sim = Sim(period, interval, by)
    sim.add(initial, NOW)
    for i in range(runs):
        now = NOW + i * interval
        if i:
            sim.add(added, now)
            sim.prune_oldest(pruned)
        sim.run(now)
        assert sim.unread_too_long(now + interval) == [], f"run {i}"
    return sim


SIMULATIONS = {
    "a fixed repository": dict(initial=1000, added=0, pruned=0, runs=95),
    "daily backups, nothing pruned": dict(initial=100, added=5, pruned=0, runs=120),
    "daily backups and prune": dict(initial=300, added=10, pruned=10, runs=150),
    "an empty repository that grows": dict(initial=0, added=3, pruned=0, runs=100),
    "fast growth": dict(initial=50, added=40, pruned=0, runs=80),
    "by bytes": dict(initial=200, added=5, pruned=5, runs=120, by=Budget.BYTES),
    "a weekly period": dict(initial=200, added=5, pruned=5, runs=60, period=timedelta(days=7)),
    "hourly runs": dict(
        initial=80, added=1, pruned=1, runs=24 * 6, period=2 * DAY, interval=timedelta(hours=1)
    ),
}


@pytest.mark.parametrize("params", list(SIMULATIONS.values()), ids=list(SIMULATIONS))
def test_every_pack_is_read_within_the_period(params: dict[str, object]) -> None:
    sim = simulate(**params)  # type: ignore[arg-type]
    assert sim.longest_gap < sim.period
    assert set(sim.first_read) >= set(sim.sizes)  # nothing left never read


def test_a_first_rotation_is_spread_evenly() -> None:
    sim = simulate(initial=1000, added=0, pruned=0, runs=95)
    assert set(sim.per_run) == {math.ceil(1000 / 29)}


def test_in_steady_state_new_packs_are_read_at_the_next_run() -> None:
    sim = simulate(initial=300, added=10, pruned=10, runs=150)
    settled = NOW + 2 * MONTH
    delays = {sim.first_read[n] - sim.born[n] for n in sim.first_read if sim.born[n] > settled}
    assert delays == {timedelta(0)}


def test_steady_state_reads_about_a_period_share() -> None:
    sim = simulate(initial=300, added=10, pruned=10, runs=150)
    share = math.ceil(300 / 29)
    assert max(sim.per_run[60:]) <= 2 * share
