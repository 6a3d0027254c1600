"""The frozen snapshot of the cluster that one HA cycle decides on.

The agent gathers everything (the etcd view, its own checks, its database's
state, its lease clock) into one :class:`Snapshot`; :mod:`drkit.ha.decide`
turns it into one :class:`~drkit.ha.decide.Decision`. Times are seconds:
``now`` on the wall clock for comparing with records other agents wrote,
``mono`` on the agent's monotonic clock for its own lease deadline (a
monotonic clock keeps running while a process is frozen, so a woken agent
sees at once that its lease may be gone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    PRIMARY = "primary"
    REPLICA = "replica"
    WITNESS = "witness"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Leader:
    """The leader key in etcd: who holds it and until when (wall clock, estimated)."""

    site: str
    expires_at: float | None = None


@dataclass(frozen=True)
class Member:
    """What a site's agent published about itself (under its own lease)."""

    site: str
    role: Role
    healthy: bool
    published_at: float
    lsn: int | None = None
    lag_bytes: int | None = None
    streaming: bool = False
    sync_standby: bool = False
    fenced: bool = False
    """The site fenced itself and its database is not a primary: it serves no writes."""


@dataclass(frozen=True)
class Observation:
    """What one observer sees of another site's primary database."""

    observer: str
    target: str
    down: bool
    since: float
    published_at: float


@dataclass(frozen=True)
class Pause:
    who: str
    reason: str
    at: float
    switchover_to: str | None = None
    """A planned switchover in progress: the leader demotes, then this site promotes."""


@dataclass(frozen=True)
class FailoverRecord:
    at: float
    from_site: str | None
    to_site: str
    reason: str
    kind: str = "failover"


@dataclass(frozen=True)
class SyncKey:
    """The sync key in etcd: the standby the leader ``leader`` named synchronous (None: none).

    Written by the lease holder only, kept without a lease: it outlives a dead
    leader. In synchronous mode it names the one standby that holds every
    write the leader acknowledged, the only one that may take over.
    """

    leader: str
    standby: str | None


@dataclass(frozen=True)
class Local:
    """The deciding agent's own view: its site, database and lease clock."""

    site: str
    role: Role
    db_healthy: bool
    db_reachable: bool
    lsn: int | None = None
    holds_lease: bool = False
    lease_deadline_mono: float | None = None
    fenced: bool = False
    """This agent fenced its site (and has followed no other leader since)."""
    streaming_to: tuple[str, ...] | None = None
    """A primary's own view (pg_stat_replication): the replicas streaming from it now;
    None when unknown (no primary, or the database did not answer)."""
    streamed_before: tuple[str, ...] = ()
    """Replicas this agent's primary has seen streaming at some point."""
    leading_since: float | None = None
    """When (wall clock) this agent's current hold of the lease began; None: it does not lead."""


@dataclass(frozen=True)
class Snapshot:
    """Everything one HA cycle knows. ``dcs_ok`` False: the etcd fields are stale or empty."""

    now: float
    mono: float
    local: Local
    dcs_ok: bool
    leader: Leader | None = None
    members: tuple[Member, ...] = ()
    observations: tuple[Observation, ...] = ()
    pause: Pause | None = None
    history: tuple[FailoverRecord, ...] = ()
    last_leader_lsn: int | None = None
    last_leader_site: str | None = None
    leader_gone_since: float | None = None
    sync: SyncKey | None = None
    dcs_error: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def member(self, site: str) -> Member | None:
        return next((m for m in self.members if m.site == site), None)
