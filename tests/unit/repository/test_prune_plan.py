"""Table-driven tests of the pure prune planner, drkit.repository.prune.plan_prune."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from drkit.errors import UsageError
from drkit.repository.blob import BlobType, PackedBlob
from drkit.repository.prune import PrunePlan, plan_prune

HEADER = 100  # pretend size of a pack's header

# A pack is a list of (blob name, stored length); a trailing "t" in a name makes a tree blob.
PackSpec = list[tuple[str, int]]


def blob_id(name: str) -> bytes:
    return name.encode().ljust(32, b"\0")


def packed(spec: PackSpec) -> list[PackedBlob]:
    blobs, offset = [], 0
    for name, length in spec:
        btype = BlobType.TREE if name.endswith("t") else BlobType.DATA
        blobs.append(PackedBlob(blob_id(name), btype, offset, length, 0))
        offset += length
    return blobs


@dataclass
class Case:
    """One planner scenario and the plan it must give."""

    name: str
    packs: dict[str, PackSpec]  # what the index says
    used: set[str]
    max_unused: float = 10.0
    absent: set[str] = field(default_factory=set)  # indexed packs missing from storage
    extra: dict[str, int] = field(default_factory=dict)  # stored packs no index names
    keep: set[str] = field(default_factory=set)
    repack: dict[str, list[str]] = field(default_factory=dict)  # pack -> blobs copied
    delete: set[str] = field(default_factory=set)
    unindexed: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    lost: set[str] = field(default_factory=set)


CASES = [
    Case("empty repository", {}, set()),
    Case(
        "fully used packs are kept",
        {"p1": [("a", 10), ("b", 10)], "p2": [("ct", 5)]},
        {"a", "b", "ct"},
        keep={"p1", "p2"},
    ),
    Case(
        "a pack with nothing used is deleted",
        {"p1": [("a", 10)], "p2": [("x", 10), ("y", 10)]},
        {"a"},
        keep={"p1"},
        delete={"p2"},
    ),
    Case(
        "garbage above the limit repacks the used blobs only",
        {"p1": [("a", 50), ("x", 30), ("b", 20)]},
        {"a", "b"},
        repack={"p1": ["a", "b"]},
    ),
    Case(
        "garbage below the limit keeps the pack",
        {"p1": [("a", 95), ("x", 5)]},
        {"a"},
        keep={"p1"},
    ),
    Case(
        "garbage exactly at the limit keeps the pack",
        {"p1": [("a", 90), ("x", 10)]},
        {"a"},
        keep={"p1"},
    ),
    Case(
        "max-unused 0 repacks any garbage",
        {"p1": [("a", 99), ("x", 1)]},
        {"a"},
        max_unused=0,
        repack={"p1": ["a"]},
    ),
    Case(
        "max-unused 0 keeps clean packs",
        {"p1": [("a", 99), ("b", 1)]},
        {"a", "b"},
        max_unused=0,
        keep={"p1"},
    ),
    Case(
        "max-unused 100 never repacks, but still deletes",
        {"p1": [("a", 1), ("x", 99)], "p2": [("y", 5)]},
        {"a"},
        max_unused=100,
        keep={"p1"},
        delete={"p2"},
    ),
    Case(
        "an extra copy in a small pack: the small pack goes",
        {"p1": [("a", 10), ("b", 10)], "p0": [("a", 10)]},
        {"a", "b"},
        keep={"p1"},
        delete={"p0"},
    ),
    Case(
        "the same blob in two repacked packs is copied once",
        {"p1": [("a", 10), ("x", 90)], "p2": [("a", 10), ("b", 10), ("y", 80)]},
        {"a", "b"},
        repack={"p2": ["a", "b"]},
        delete={"p1"},
    ),
    Case(
        "a blob a kept pack holds is not copied out of a repacked one",
        # c is cleanest and takes b; r (repacked) takes a and e; k is kept and also
        # holds a, so only e is copied out of r
        {
            "c": [("b", 200)],
            "r": [("b", 50), ("a", 50), ("e", 50)],
            "k": [("a", 50), ("d", 945), ("x", 5)],
        },
        {"a", "b", "d", "e"},
        keep={"c", "k"},
        repack={"r": ["e"]},
    ),
    Case(
        "a repacked pack with nothing left to copy is deleted",
        {
            "c": [("b", 100)],
            "r": [("b", 50), ("a", 50)],
            "k": [("a", 50), ("d", 945), ("x", 5)],
        },
        {"a", "b", "d"},
        keep={"c", "k"},
        delete={"r"},
    ),
    Case(
        "a duplicate entry inside one pack is garbage",
        {"p1": [("a", 10), ("a", 10)]},
        {"a"},
        repack={"p1": ["a"]},
    ),
    Case(
        "stored packs no index names are removed",
        {"p1": [("a", 10)]},
        {"a"},
        extra={"orphan": 1234},
        keep={"p1"},
        unindexed={"orphan"},
    ),
    Case(
        "an absent pack with only garbage is dropped from the index",
        {"p1": [("a", 10)], "gone": [("x", 10)]},
        {"a"},
        absent={"gone"},
        keep={"p1"},
        missing={"gone"},
    ),
    Case(
        "an absent pack whose blobs exist elsewhere loses nothing",
        {"p1": [("a", 10)], "gone": [("a", 10)]},
        {"a"},
        absent={"gone"},
        keep={"p1"},
        missing={"gone"},
    ),
    Case(
        "a used blob only in an absent pack is lost",
        {"p1": [("a", 10)], "gone": [("b", 10)]},
        {"a", "b"},
        absent={"gone"},
        keep={"p1"},
        missing={"gone"},
        lost={"b"},
    ),
    Case(
        "a used blob in no index is lost",
        {"p1": [("a", 10)]},
        {"a", "nowhere"},
        keep={"p1"},
        lost={"nowhere"},
    ),
    Case(
        "tree and data blobs are handled alike",
        {"p1": [("at", 10), ("xt", 90)], "p2": [("bt", 10)]},
        {"at", "bt"},
        repack={"p1": ["at"]},
        keep={"p2"},
    ),
]


def stored_for(case: Case) -> dict[str, int]:
    sizes = {
        name: sum(length for _, length in spec) + HEADER
        for name, spec in case.packs.items()
        if name not in case.absent
    }
    return {**sizes, **case.extra}


def run(case: Case) -> PrunePlan:
    indexed: Mapping[str, Sequence[PackedBlob]] = {n: packed(s) for n, s in case.packs.items()}
    return plan_prune(indexed, stored_for(case), {blob_id(u) for u in case.used}, case.max_unused)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_plan(case: Case) -> None:
    plan = run(case)
    assert set(plan.keep) == case.keep
    assert {p: [b.id for b in blobs] for p, blobs in plan.repack.items()} == {
        p: [blob_id(n) for n in names] for p, names in case.repack.items()
    }
    assert set(plan.delete) == case.delete
    assert set(plan.unindexed) == case.unindexed
    assert set(plan.missing) == case.missing
    assert plan.lost == {blob_id(n) for n in case.lost}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_stored_pack_gets_exactly_one_fate(case: Case) -> None:
    plan = run(case)
    fates = [*plan.keep, *plan.repack, *plan.delete, *plan.unindexed]
    assert sorted(fates) == sorted(stored_for(case))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_used_blob_survives_once(case: Case) -> None:
    """After the plan, each used blob that was stored lives in a kept pack or is copied once."""
    plan = run(case)
    copied = [b.id for blobs in plan.repack.values() for b in blobs]
    assert len(copied) == len(set(copied))
    kept = {b.id for name in plan.keep for b in packed(case.packs[name])}
    survivors = kept | set(copied)
    assert {blob_id(u) for u in case.used} - plan.lost <= survivors
    assert not set(copied) & kept


def test_stats_add_up() -> None:
    case = Case(
        "stats",
        {
            "keep": [("a", 100)],
            "rep": [("b", 60), ("x", 40)],
            "del": [("y", 30), ("z", 20)],
        },
        {"a", "b"},
        extra={"orphan": 77},
    )
    plan = run(case)
    stats = plan.stats
    assert plan.keep == ("keep",) and list(plan.repack) == ["rep"] and plan.delete == ("del",)
    assert stats.packs_total == 4
    assert stats.bytes_total == (100 + HEADER) + (100 + HEADER) + (50 + HEADER) + 77
    assert stats.used_bytes == 160
    assert stats.unused_bytes == 40 + 50 + 77
    assert stats.blobs_removed == 3  # x, y and z
    assert stats.blobs_repacked == 1
    assert stats.bytes_repacked == 60
    assert stats.obsolete_bytes == (100 + HEADER) + (50 + HEADER) + 77
    assert stats.bytes_freed == stats.obsolete_bytes - 60
    assert plan.obsolete == ("del", "rep", "orphan")
    assert plan.rewrites_index and plan.changes_anything


def test_nothing_to_do() -> None:
    plan = run(Case("clean", {"p1": [("a", 10)]}, {"a"}))
    assert not plan.rewrites_index
    assert not plan.changes_anything
    assert plan.obsolete == ()
    assert plan.stats.bytes_freed == 0


def test_only_unindexed_packs_leave_the_index_alone() -> None:
    plan = run(Case("orphans", {"p1": [("a", 10)]}, {"a"}, extra={"o": 5}))
    assert plan.changes_anything
    assert not plan.rewrites_index


def test_input_order_does_not_matter() -> None:
    packs = {f"p{i}": [("shared", 10), (f"u{i}", 10), (f"g{i}", 10)] for i in range(6)}
    used = {"shared"} | {f"u{i}" for i in range(6)}
    forward = run(Case("fwd", packs, used))
    backward = run(Case("bwd", dict(reversed(list(packs.items()))), used))
    assert forward == backward


@pytest.mark.parametrize("bad", [-0.1, 100.5, float("nan")])
def test_max_unused_must_be_a_percentage(bad: float) -> None:
    with pytest.raises(UsageError, match="max-unused"):
        plan_prune({}, {}, set(), bad)
