"""The facts split-brain detection and resolution work on (frozen, gathered elsewhere).

Each agent publishes what it sees: the databases (writable or not, timeline,
LSN), its load balancer's routing, the DNS answers of every authoritative
server, and one row of the reachability matrix (whom it reaches: the other
sites, the database, etcd).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ETCD = "etcd"
DATABASE = "database"


@dataclass(frozen=True)
class DbFact:
    """One site's database as probed: writable means not in recovery."""

    site: str
    reachable: bool
    writable: bool = False
    timeline: int | None = None
    lsn: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class LbRoute:
    """One server of a site's load balancer and the site whose database it points at."""

    lb_site: str
    server: str
    target_site: str
    serving: bool


@dataclass(frozen=True)
class DnsAnswer:
    """One authoritative server's answer for one record, and what the elected primary wants."""

    record: str
    server: str
    values: tuple[str, ...]
    expected: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class Link:
    """``source`` reaches ``target`` (a site, :data:`DATABASE` of its site, or :data:`ETCD`)."""

    source: str
    target: str
    ok: bool


@dataclass(frozen=True)
class Reachability:
    """The matrix every agent publishes one row of; a missing entry is unknown."""

    links: tuple[Link, ...] = ()
    stale: tuple[tuple[str, float], ...] = ()
    """(site, age in seconds) of rows left out as older than the row TTL: those sites' own
    views are unknown (a site cut off keeps its last row under its lease for a while)."""
    read: bool = False
    """The other agents' rows were read from etcd this cycle (False: only my own row)."""

    def stale_age(self, source: str) -> float | None:
        return next((age for site, age in self.stale if site == source), None)

    def get(self, source: str, target: str) -> bool | None:
        for link in self.links:
            if link.source == source and link.target == target:
                return link.ok
        return None

    def reports(self, source: str) -> bool:
        return any(link.source == source for link in self.links)


@dataclass(frozen=True)
class Override:
    """An operator's forced primary choice."""

    primary: str
    who: str
    reason: str
    at: float


@dataclass(frozen=True)
class View:
    """What one side knows when it resolves: voters, lease, links, its own state."""

    sites: tuple[str, ...]
    witnesses: tuple[str, ...]
    reach: Reachability
    leader: str | None = None
    """The site holding the leader lease (as this side last saw it under a live lease)."""
    writable: frozenset[str] = frozenset()
    """Sites whose database this side saw writable (its own included)."""
    fenced: frozenset[str] = frozenset()
    owns_dns: frozenset[str] = frozenset()
    """Sites whose agent owns (updates) the DNS records."""
    paused: str | None = None
    """The pause reason (who: why) when the cluster is paused."""
    override: Override | None = None

    @property
    def voters(self) -> tuple[str, ...]:
        return self.sites + self.witnesses


@dataclass(frozen=True)
class Facts:
    """Everything the detectors look at, gathered in one cycle."""

    databases: tuple[DbFact, ...] = ()
    routes: tuple[LbRoute, ...] = ()
    dns: tuple[DnsAnswer, ...] = ()
    reach: Reachability = field(default_factory=Reachability)
    sites: tuple[str, ...] = ()
    witnesses: tuple[str, ...] = ()
    leader: str | None = None
