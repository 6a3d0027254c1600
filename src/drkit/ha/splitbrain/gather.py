"""Building one cycle's :class:`Facts` from the real drivers, and the published reach rows.

Probing never raises for a part that is down: a database that does not
answer is ``reachable=False``, a load balancer or DNS server that fails
contributes no routes or an answer with ``error`` (a missing fact, not a
split brain). Each agent publishes its row of the reachability matrix under
the ``reach`` kind; :func:`reach_from_view` reads every live row back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TypeVar

from drkit.ha.drivers.database.base import Database
from drkit.ha.drivers.dcs.base import ClusterView, Record
from drkit.ha.drivers.dns.base import Dns, DnsRecord, ServerAnswer
from drkit.ha.drivers.errors import HaDriverError
from drkit.ha.drivers.loadbalancer.base import LoadBalancer
from drkit.ha.splitbrain.facts import DbFact, DnsAnswer, Facts, LbRoute, Link, Reachability

log = logging.getLogger(__name__)

REACH_KIND = "reach"
T = TypeVar("T")


@dataclass(frozen=True)
class Parts:
    """The inventory's drivers, by site, and how to map their names back to sites."""

    sites: tuple[str, ...]
    witnesses: tuple[str, ...] = ()
    databases: Mapping[str, Database] = field(default_factory=dict)
    balancers: Mapping[str, LoadBalancer] = field(default_factory=dict)
    server_sites: Mapping[str, str] = field(default_factory=dict)
    """LB server name -> the site whose database it points at."""
    dns: Dns | None = None
    records: tuple[DnsRecord, ...] = ()
    dns_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """site -> the values the records hold when that site is primary."""


def probe_databases(databases: Mapping[str, Database]) -> tuple[DbFact, ...]:
    facts = []
    for site, db in databases.items():
        try:
            state = db.probe()
        except HaDriverError as exc:  # probe should not raise; if it does, it is "down"
            facts.append(DbFact(site, False, error=exc.message))
            continue
        facts.append(
            DbFact(
                site,
                state.reachable,
                writable=state.is_primary,
                timeline=state.timeline,
                lsn=state.current_lsn,
                error=state.error,
            )
        )
    return tuple(facts)


def routes(
    balancers: Mapping[str, LoadBalancer], server_sites: Mapping[str, str]
) -> tuple[LbRoute, ...]:
    found = []
    for lb_site, lb in balancers.items():
        try:
            servers = lb.servers()
        except HaDriverError as exc:
            log.warning("load balancer of %s unreadable: %s", lb_site, exc.message)
            continue
        for server in servers:
            target = server_sites.get(server.name)
            if target is not None:
                found.append(LbRoute(lb_site, server.name, target, server.serving))
    return tuple(found)


def dns_answers(
    dns: Dns | None, records: Sequence[DnsRecord], expected: tuple[str, ...] | None
) -> tuple[DnsAnswer, ...]:
    """Every server's answer for every record; nothing when no primary is elected."""
    if dns is None or expected is None:
        return ()
    answers = []
    for record in records:
        name = _fqdn(record)
        try:
            replies = dns.query(record)
        except HaDriverError as exc:
            answers.append(DnsAnswer(name, "*", (), expected, error=exc.message))
            continue
        answers += [DnsAnswer(name, a.server, a.values, expected, a.error) for a in replies]
    return tuple(answers)


def gather(parts: Parts, *, leader: str | None, reach: Reachability) -> Facts:
    """One cycle's facts: probe every database, read every LB and DNS server."""
    expected = parts.dns_values.get(leader) if leader else None
    return Facts(
        databases=probe_databases(parts.databases),
        routes=routes(parts.balancers, parts.server_sites),
        dns=dns_answers(parts.dns, parts.records, tuple(sorted(expected)) if expected else None),
        reach=reach,
        sites=parts.sites,
        witnesses=parts.witnesses,
        leader=leader,
    )


def reach_record(links: Mapping[str, bool], now: float) -> Record:
    """The payload an agent publishes (``DCS.publish(site, REACH_KIND, ...)``)."""
    return {"at": now, "reaches": {target: bool(ok) for target, ok in links.items()}}


def reach_from_view(
    view: ClusterView,
    me: str,
    mine: Mapping[str, bool],
    *,
    now: float | None = None,
    max_age_s: float | None = None,
    lost: Mapping[str, float] | None = None,
) -> Reachability:
    """The matrix: my own fresh row plus every other agent's fresh published row.

    With ``now`` and ``max_age_s`` a row older than ``max_age_s`` (or without its
    time) is left out and listed as stale: a site whose link is down keeps its
    last row in etcd until its lease expires, and that row is no evidence. So is a
    row published before the moment I lost that site (``lost``: site -> since when
    I see it down): it tells what the site saw before, not now.
    """
    links = [Link(me, target, ok) for target, ok in mine.items()]
    stale: list[tuple[str, float]] = []
    for site, record in view.of_kind(REACH_KIND).items():
        reaches = record.get("reaches")
        if site == me or not isinstance(reaches, Mapping):
            continue
        age = row_age(record, now)
        before = lost is not None and site in lost and _at(record) < lost[site]
        if max_age_s is not None and (age is None or age > max_age_s or before):
            stale.append((site, float("inf") if age is None else age))
            continue
        links += [Link(site, str(t), ok) for t, ok in reaches.items() if isinstance(ok, bool)]
    return Reachability(tuple(links), tuple(sorted(stale)), read=True)


def _at(record: Mapping[str, object]) -> float:
    at = record.get("at")
    return float(at) if isinstance(at, int | float) else 0.0


def row_age(record: Mapping[str, object], now: float | None) -> float | None:
    """Seconds since a reach row was published; None when unknown."""
    at = record.get("at")
    if now is None or not isinstance(at, int | float):
        return None
    return max(now - float(at), 0.0)


def _fqdn(record: DnsRecord) -> str:
    if record.name.endswith("."):
        return record.name
    return f"{record.name}.{record.zone.rstrip('.')}"


# --- bounded, in parallel (for the agent loop) ----------------------------------------


@dataclass(frozen=True)
class Pending:
    """Probes started by :func:`start_gather`; :func:`finish_gather` collects them."""

    databases: Mapping[str, Future[tuple[DbFact, ...]]]
    routes: Mapping[str, Future[tuple[LbRoute, ...]]]
    dns: Mapping[DnsRecord, Future[list[ServerAnswer]]]


def start_gather(parts: Parts, pool: Executor) -> Pending:
    """Probe every part at once (each database, balancer and record in its own task)."""
    dns = parts.dns
    return Pending(
        databases={s: pool.submit(probe_databases, {s: db}) for s, db in parts.databases.items()},
        routes={
            s: pool.submit(routes, {s: lb}, parts.server_sites) for s, lb in parts.balancers.items()
        },
        dns={} if dns is None else {r: pool.submit(dns.query, r) for r in parts.records},
    )


def _within(future: Future[T], deadline: float, default: T) -> T:
    try:
        return future.result(timeout=max(deadline - time.monotonic(), 0.0))
    except FutureTimeout:
        return default
    except HaDriverError as exc:
        log.warning("split-brain probe failed: %s", exc.message)
        return default


def finish_gather(
    pending: Pending, parts: Parts, *, leader: str | None, reach: Reachability, wait_s: float
) -> Facts:
    """The facts of what answered within ``wait_s``; the rest are missing facts (never a
    split brain): a database ``reachable=False``, no routes, a DNS answer with an error."""
    deadline = time.monotonic() + wait_s
    databases: list[DbFact] = []
    for site, future in pending.databases.items():
        late: tuple[DbFact, ...] = (DbFact(site, False, error="probe timed out"),)
        got: tuple[DbFact, ...] = _within(future, deadline, late)
        databases.extend(got)
    found: list[LbRoute] = []
    for future_routes in pending.routes.values():
        none: tuple[LbRoute, ...] = ()
        seen: tuple[LbRoute, ...] = _within(future_routes, deadline, none)
        found.extend(seen)
    values = parts.dns_values.get(leader) if leader else None
    answers: list[DnsAnswer] = []
    if values:
        expected = tuple(sorted(values))
        for record, future_dns in pending.dns.items():
            name = _fqdn(record)
            unanswered = [ServerAnswer("*", (), "timed out")]
            answers += [
                DnsAnswer(name, a.server, a.values, expected, a.error)
                for a in _within(future_dns, deadline, unanswered)
            ]
    return Facts(
        databases=tuple(databases),
        routes=tuple(found),
        dns=tuple(answers),
        reach=reach,
        sites=parts.sites,
        witnesses=parts.witnesses,
        leader=leader,
    )
