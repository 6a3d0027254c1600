"""resolve(): every split-brain case, with the outcome, steps and sentence each side must give."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drkit.ha.splitbrain.facts import Link, Override, Reachability, View
from drkit.ha.splitbrain.resolve import FenceStep, Outcome, resolve, votes_of

SITES = ("east", "west")
WITNESSES = ("witness",)
ALL = ("east", "west", "witness")
FENCE_ALL = (FenceStep.DATABASE_READ_ONLY, FenceStep.LB_DRAIN)


def full_mesh(*cut: tuple[str, str]) -> Reachability:
    """Every voter reaches every other, except the (source, target) pairs in ``cut``."""
    return Reachability(tuple(Link(a, b, (a, b) not in cut) for a in ALL for b in ALL if a != b))


def isolate(site: str) -> Reachability:
    return full_mesh(*((site, o) for o in ALL if o != site), *((o, site) for o in ALL if o != site))


HEALTHY = View(SITES, WITNESSES, full_mesh(), leader="east", writable=frozenset({"east"}))
TWO_PRIMARIES = replace(HEALTHY, writable=frozenset({"east", "west"}))
OVERRIDE_WEST = Override("west", "alice", "east datacentre on fire", 1000.0)

CASES = [
    # (name, view, me, outcome, sentence part, steps)
    ("healthy leader", HEALTHY, "east", Outcome.KEEP_PRIMARY, "holds the lease and 3 of 3", ()),
    ("healthy replica", HEALTHY, "west", Outcome.NOTHING, "east holds the lease", ()),
    ("witness", HEALTHY, "witness", Outcome.NOTHING, "witness", ()),
    ("two primaries: leader keeps", TWO_PRIMARIES, "east", Outcome.KEEP_PRIMARY, "3 of 3", ()),
    (
        "two primaries: other fences",
        TWO_PRIMARIES,
        "west",
        Outcome.FENCE,
        "without the lease",
        FENCE_ALL,
    ),
    (
        "primary isolated fences without waiting",
        replace(HEALTHY, reach=isolate("east")),
        "east",
        Outcome.FENCE,
        "minority (1 of 3 votes)",
        FENCE_ALL,
    ),
    (
        "majority without lease waits",
        replace(HEALTHY, reach=isolate("east"), leader=None, writable=frozenset()),
        "west",
        Outcome.WAIT,
        "2 of 3 votes but nobody holds the lease",
        (),
    ),
    (
        "writable with a majority and no lease anywhere (start, lease lapsed): may take it",
        replace(HEALTHY, leader=None),
        "east",
        Outcome.WAIT,
        "nobody holds the lease (it may take it)",
        (),
    ),
    (
        "writable, no lease anywhere, minority: fences",
        replace(HEALTHY, leader=None, reach=isolate("east")),
        "east",
        Outcome.FENCE,
        "without the lease and in a minority",
        FENCE_ALL,
    ),
    (
        "isolated leader still in etcd lease but minority fences",
        replace(HEALTHY, reach=isolate("east"), leader="east"),
        "east",
        Outcome.FENCE,
        "minority",
        FENCE_ALL,
    ),
    (
        "asymmetric: east reaches west, west denies: still majority with witness",
        replace(HEALTHY, reach=full_mesh(("west", "east"))),
        "east",
        Outcome.KEEP_PRIMARY,
        "2 of 3",
        (),
    ),
    (
        "asymmetric and witness lost: leader fences",
        replace(HEALTHY, reach=full_mesh(("west", "east"), ("east", "witness"))),
        "east",
        Outcome.FENCE,
        "minority (1 of 3",
        FENCE_ALL,
    ),
    (
        "no quorum anywhere: primary fences",
        replace(HEALTHY, reach=Reachability()),
        "east",
        Outcome.FENCE,
        "minority (1 of 3",
        FENCE_ALL,
    ),
    (
        "no quorum anywhere: replica does nothing",
        replace(HEALTHY, reach=Reachability(), leader=None, writable=frozenset()),
        "west",
        Outcome.NOTHING,
        "no side has the lease",
        (),
    ),
    (
        "owner of DNS withdraws it too",
        replace(HEALTHY, reach=isolate("east"), owns_dns=frozenset({"east"})),
        "east",
        Outcome.FENCE,
        "minority",
        (*FENCE_ALL, FenceStep.DNS_WITHDRAW),
    ),
    (
        "fenced by hand and still writable: fences again",
        replace(TWO_PRIMARIES, fenced=frozenset({"west"})),
        "west",
        Outcome.FENCE,
        "fenced by hand and its database is writable",
        FENCE_ALL,
    ),
    (
        "fenced by hand, read-only: nothing",
        replace(HEALTHY, fenced=frozenset({"west"})),
        "west",
        Outcome.NOTHING,
        "west is fenced by hand",
        (),
    ),
    (
        "fenced by hand beats an override naming it",
        replace(TWO_PRIMARIES, fenced=frozenset({"west"}), override=OVERRIDE_WEST),
        "west",
        Outcome.FENCE,
        "fenced by hand",
        FENCE_ALL,
    ),
    (
        "paused: nothing even when writable in minority",
        replace(HEALTHY, reach=isolate("east"), paused="bob: maintenance"),
        "east",
        Outcome.NOTHING,
        "paused (bob: maintenance)",
        (),
    ),
    (
        "override against quorum keeps west",
        replace(TWO_PRIMARIES, reach=isolate("west"), override=OVERRIDE_WEST),
        "west",
        Outcome.KEEP_PRIMARY,
        "override by alice (east datacentre on fire)",
        (),
    ),
    (
        "override fences the quorum's leader",
        replace(TWO_PRIMARIES, override=OVERRIDE_WEST),
        "east",
        Outcome.FENCE,
        "names west primary",
        FENCE_ALL,
    ),
    (
        "override names a replica: it waits",
        replace(HEALTHY, override=OVERRIDE_WEST),
        "west",
        Outcome.WAIT,
        "not writable yet",
        (),
    ),
]


@pytest.mark.parametrize(
    ("view", "me", "outcome", "part", "steps"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_resolve(
    view: View, me: str, outcome: Outcome, part: str, steps: tuple[FenceStep, ...]
) -> None:
    got = resolve(view, me)
    assert got.outcome is outcome, got.sentence
    assert part in got.sentence
    assert got.steps == steps
    assert "\n" not in got.sentence


def test_override_against_quorum_warns_and_with_quorum_does_not() -> None:
    against = resolve(replace(TWO_PRIMARIES, reach=isolate("west"), override=OVERRIDE_WEST), "west")
    assert against.warning is not None and "against the quorum" in against.warning
    along = resolve(replace(TWO_PRIMARIES, override=OVERRIDE_WEST), "west")
    assert along.warning is None


def test_at_most_one_side_keeps_the_primary_in_every_partition() -> None:
    cuts = [(a, b) for a in ALL for b in ALL if a != b]
    for mask in range(1 << len(cuts)):
        reach = full_mesh(*(c for i, c in enumerate(cuts) if mask >> i & 1))
        for leader in (*SITES, None):
            view = View(SITES, WITNESSES, reach, leader=leader, writable=frozenset(SITES))
            keepers = [s for s in SITES if resolve(view, s).outcome is Outcome.KEEP_PRIMARY]
            assert len(keepers) <= 1, (mask, leader, keepers)


def test_votes_count_only_links_not_denied() -> None:
    reach = full_mesh(("witness", "east"))
    assert votes_of(replace(HEALTHY, reach=reach), "east") == ("east", "west")
