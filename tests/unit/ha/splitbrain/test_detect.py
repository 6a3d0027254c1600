"""detect() and divergence(): a table of facts with the states (and evidence) each must show."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drkit.ha.splitbrain.detect import Kind, detect
from drkit.ha.splitbrain.divergence import DivergenceError, divergence, parse_lsn
from drkit.ha.splitbrain.facts import (
    ETCD,
    DbFact,
    DnsAnswer,
    Facts,
    LbRoute,
    Link,
    Reachability,
)

ALL = ("east", "west", "witness")


def mesh(*cut: tuple[str, str], etcd: tuple[str, ...] = ALL) -> Reachability:
    links = [Link(a, b, (a, b) not in cut) for a in ALL for b in ALL if a != b]
    links += [Link(a, ETCD, a in etcd) for a in ALL]
    return Reachability(tuple(links))


HEALTHY = Facts(
    databases=(
        DbFact("east", True, writable=True, timeline=1, lsn=0x3000060),
        DbFact("west", True, writable=False, timeline=1, lsn=0x3000060),
    ),
    routes=(
        LbRoute("east", "pg-east", "east", serving=True),
        LbRoute("east", "pg-west", "west", serving=False),
        LbRoute("west", "pg-east", "east", serving=True),
        LbRoute("west", "pg-west", "west", serving=False),
    ),
    dns=(
        DnsAnswer("db.failover.test", "127.0.0.1:53", ("127.0.0.2",), ("127.0.0.2",)),
        DnsAnswer("db.failover.test", "127.0.0.9:53", ("127.0.0.2",), ("127.0.0.2",)),
    ),
    reach=mesh(),
    sites=("east", "west"),
    witnesses=("witness",),
    leader="east",
)
TWO = replace(
    HEALTHY,
    databases=(
        DbFact("east", True, writable=True, timeline=1, lsn=0x3000060),
        DbFact("west", True, writable=True, timeline=2, lsn=0x3000100),
    ),
)
ISOLATED_EAST = mesh(*((a, b) for a in ALL for b in ALL if a != b and "east" in (a, b)))

CASES = [
    ("healthy", HEALTHY, []),
    ("two writable primaries", TWO, [Kind.TWO_PRIMARIES]),
    (
        "two primaries, each LB routing to its own writable db",
        replace(
            TWO,
            routes=(
                LbRoute("east", "pg-east", "east", serving=True),
                LbRoute("west", "pg-west", "west", serving=True),
            ),
        ),
        [Kind.TWO_PRIMARIES, Kind.TWO_LOAD_BALANCERS],
    ),
    (
        "one LB routes to a read-only replica: not two",
        replace(HEALTHY, routes=(*HEALTHY.routes, LbRoute("west", "pg-west2", "west", True))),
        [],
    ),
    (
        "DNS changed on one server",
        replace(
            HEALTHY,
            dns=(
                HEALTHY.dns[0],
                DnsAnswer("db.failover.test", "127.0.0.9:53", ("127.0.0.3",), ("127.0.0.2",)),
            ),
        ),
        [Kind.DIVERGENT_DNS],
    ),
    (
        "a DNS server that does not answer is not divergence",
        replace(
            HEALTHY,
            dns=(DnsAnswer("db.failover.test", "x:53", (), ("127.0.0.2",), error="timeout"),),
        ),
        [],
    ),
    (
        "no links at all: no quorum",
        replace(HEALTHY, reach=mesh(*((a, b) for a in ALL for b in ALL))),
        [Kind.NO_QUORUM, *[Kind.UNREACHABLE_IN_ETCD] * 3],  # east, west and the witness
    ),
    (
        "no links and no etcd: only no quorum",
        replace(HEALTHY, reach=mesh(*((a, b) for a in ALL for b in ALL), etcd=())),
        [Kind.NO_QUORUM],
    ),
    ("no reports at all: nothing claimed", replace(HEALTHY, reach=Reachability()), []),
    (
        "east isolated but in etcd",
        replace(HEALTHY, reach=ISOLATED_EAST),
        [Kind.UNREACHABLE_IN_ETCD],
    ),
    (
        "east isolated and out of etcd",
        replace(
            HEALTHY,
            reach=mesh(
                *((a, b) for a in ALL for b in ALL if "east" in (a, b)), etcd=("west", "witness")
            ),
        ),
        [],
    ),
    ("asymmetric link keeps a quorum", replace(HEALTHY, reach=mesh(("west", "east"))), []),
]


@pytest.mark.parametrize(("facts", "kinds"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_detect(facts: Facts, kinds: list[Kind]) -> None:
    assert [s.kind for s in detect(facts)] == kinds


def test_two_primaries_evidence_names_both_timelines_and_lsns() -> None:
    (state,) = detect(TWO)
    assert state.key == "ha-splitbrain:two-primaries:east+west"
    assert dict(state.evidence) == {
        "east": "writable, timeline 1, lsn 0/3000060",
        "west": "writable, timeline 2, lsn 0/3000100",
    }


def test_divergent_dns_evidence_names_the_wrong_server_and_value() -> None:
    facts = replace(
        HEALTHY,
        dns=(DnsAnswer("db.failover.test", "127.0.0.9:53", ("127.0.0.3",), ("127.0.0.2",)),),
    )
    (state,) = detect(facts)
    assert state.evidence == (("127.0.0.9:53", "127.0.0.3"),)
    assert "127.0.0.2" in state.summary


def test_unreachable_in_etcd_evidence() -> None:
    (state,) = detect(replace(HEALTHY, reach=ISOLATED_EAST))
    assert state.subject == "east"
    assert ("east", "reaches etcd") in state.evidence


def test_a_witness_nobody_reaches_is_detected_too() -> None:
    """Losing the witness moves nothing, but one more loss would leave no majority."""
    cut = mesh(("east", "witness"), ("west", "witness"), ("witness", "east"), ("witness", "west"))
    (state,) = detect(replace(HEALTHY, reach=cut))
    assert (state.kind, state.subject) == (Kind.UNREACHABLE_IN_ETCD, "witness")
    assert state.summary.startswith("witness is unreachable from east, west"), state.summary


HISTORY = "1\t0/3000060\tno recovery target specified\n"


def test_divergence_reports_the_forked_range() -> None:
    d = divergence(
        old_site="east",
        old_timeline=1,
        old_end_lsn=parse_lsn("0/3000200"),
        new_site="west",
        new_timeline=2,
        new_history=HISTORY,
    )
    assert (d.fork_lsn, d.diverged_bytes) == (0x3000060, 0x1A0)
    assert "timeline 1 from 0/3000060 to 0/3000200" in d.sentence()


def test_divergence_without_writes_past_the_fork() -> None:
    d = divergence(
        old_site="east",
        old_timeline=1,
        old_end_lsn=0x3000060,
        new_site="west",
        new_timeline=2,
        new_history=HISTORY,
    )
    assert not d.diverged and "nothing to reconcile" in d.sentence()


@pytest.mark.parametrize(
    ("old_tl", "new_tl", "history"),
    [(1, 1, HISTORY), (3, 4, HISTORY), (1, 2, "garbage")],
)
def test_divergence_refuses_what_it_cannot_place(old_tl: int, new_tl: int, history: str) -> None:
    with pytest.raises(DivergenceError):
        divergence(
            old_site="east",
            old_timeline=old_tl,
            old_end_lsn=1,
            new_site="west",
            new_timeline=new_tl,
            new_history=history,
        )


def test_parse_lsn_rejects_garbage() -> None:
    with pytest.raises(DivergenceError):
        parse_lsn("nope")
