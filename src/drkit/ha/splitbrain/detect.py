"""Split-brain states as pure functions of one cycle's :class:`Facts`, each with its evidence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drkit.ha.splitbrain.facts import ETCD, Facts


class Kind(StrEnum):
    TWO_PRIMARIES = "two-primaries"
    TWO_LOAD_BALANCERS = "two-load-balancers"
    DIVERGENT_DNS = "divergent-dns"
    NO_QUORUM = "no-quorum"
    UNREACHABLE_IN_ETCD = "unreachable-in-etcd"
    """A site the others cannot reach but that still reaches etcd (it may keep a lease)."""
    UNREACHABLE = "unreachable"
    """A site the others cannot reach whose own view is stale or unknown (no fresh row)."""


@dataclass(frozen=True)
class SplitBrainState:
    kind: Kind
    subject: str
    """What it is about (sites joined with '+', a record name, ...): part of the dedup key."""
    summary: str
    evidence: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        return f"ha-splitbrain:{self.kind.value}:{self.subject}"


def detect(facts: Facts) -> list[SplitBrainState]:
    """Every split-brain state the facts show, in a stable order."""
    return [
        *_two_primaries(facts),
        *_two_load_balancers(facts),
        *_divergent_dns(facts),
        *_no_quorum(facts),
        *_unreachable_in_etcd(facts),
    ]


def _two_primaries(facts: Facts) -> list[SplitBrainState]:
    writable = sorted(
        (d for d in facts.databases if d.reachable and d.writable), key=lambda d: d.site
    )
    if len(writable) < 2:
        return []
    evidence = tuple(
        (f"{d.site}", f"writable, timeline {d.timeline}, lsn {_lsn(d.lsn)}") for d in writable
    )
    sites = [d.site for d in writable]
    return [
        SplitBrainState(
            Kind.TWO_PRIMARIES,
            "+".join(sites),
            f"{len(sites)} writable primaries: {', '.join(sites)}",
            evidence,
        )
    ]


def _two_load_balancers(facts: Facts) -> list[SplitBrainState]:
    writable = {d.site for d in facts.databases if d.reachable and d.writable}
    routing: dict[str, list[str]] = {}
    for r in facts.routes:
        if r.serving and r.target_site in writable:
            routing.setdefault(r.lb_site, []).append(f"{r.server} -> {r.target_site}")
    targets = {r.target_site for r in facts.routes if r.serving and r.target_site in writable}
    if len(routing) < 2 or len(targets) < 2:  # all routing to one primary is the normal case
        return []
    lbs = sorted(routing)
    return [
        SplitBrainState(
            Kind.TWO_LOAD_BALANCERS,
            "+".join(lbs),
            f"load balancers of {', '.join(lbs)} route to different writable databases",
            tuple((lb, ", ".join(routing[lb])) for lb in lbs),
        )
    ]


def _divergent_dns(facts: Facts) -> list[SplitBrainState]:
    states = []
    for record in sorted({a.record for a in facts.dns}):
        wrong = [
            a
            for a in facts.dns
            if a.record == record and a.error is None and a.values != a.expected
        ]
        if not wrong:
            continue
        expected = wrong[0].expected
        states.append(
            SplitBrainState(
                Kind.DIVERGENT_DNS,
                record,
                f"DNS {record} disagrees with the elected primary ({', '.join(expected)})"
                f" on {len(wrong)} server(s)",
                tuple((a.server, ", ".join(a.values) or "(no value)") for a in wrong),
            )
        )
    return states


def _side_votes(facts: Facts, me: str) -> list[str]:
    voters = facts.sites + facts.witnesses
    return [me] + [
        o
        for o in voters
        if o != me and facts.reach.get(me, o) is True and facts.reach.get(o, me) is not False
    ]


def _no_quorum(facts: Facts) -> list[SplitBrainState]:
    voters = facts.sites + facts.witnesses
    if not voters or not any(facts.reach.reports(v) for v in voters):
        return []
    sides = {v: _side_votes(facts, v) for v in voters}
    if any(len(s) * 2 > len(voters) for s in sides.values()):
        return []
    return [
        SplitBrainState(
            Kind.NO_QUORUM,
            "cluster",
            f"no side holds a majority of the {len(voters)} votes",
            tuple((v, "reaches " + (", ".join(s[1:]) or "nobody")) for v, s in sides.items()),
        )
    ]


def _unreachable_in_etcd(facts: Facts) -> list[SplitBrainState]:
    """Sites nobody reaches, the witness too (one more loss and no side has a majority);
    evidence from fresh rows only (stale rows are left out)."""
    states = []
    voters = facts.sites + facts.witnesses
    for site in voters:
        others = [o for o in voters if o != site and facts.reach.reports(o)]
        if not others or not all(facts.reach.get(o, site) is False for o in others):
            continue
        cut = tuple((o, f"cannot reach {site}") for o in others)
        leader = ("leader", facts.leader or "(none)")
        who = f"{site} is unreachable from {', '.join(others)}"
        etcd = facts.reach.get(site, ETCD)
        if etcd is True:
            states.append(
                SplitBrainState(
                    Kind.UNREACHABLE_IN_ETCD,
                    site,
                    f"{who} but still reaches etcd",
                    (*cut, (site, "reaches etcd"), leader),
                )
            )
            continue
        if etcd is False or facts.reach.reports(site) or not facts.reach.read:
            # out of etcd it keeps no lease; a fresh row silent on etcd tells nothing; without
            # etcd myself, nobody's row is there to be fresh or stale
            continue
        own, row = _own_view(facts, site)
        states.append(
            SplitBrainState(Kind.UNREACHABLE, site, f"{who}; {own}", (*cut, (site, row), leader))
        )
    return states


def _own_view(facts: Facts, site: str) -> tuple[str, str]:
    """The summary part (stable, so the alert does not churn) and the evidence with the age."""
    age = facts.reach.stale_age(site)
    if age is None:
        return "its own view is unknown (no reach row)", "no reach row published"
    stale = "its own view is stale (no fresh reach row)"
    if age == float("inf"):
        return stale, "its reach row has no time"
    return stale, f"its last reach row is {age:.1f} s old, from before it was lost or expired"


def _lsn(value: int | None) -> str:
    return "?" if value is None else f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"
