"""Turn one DCS read and the agent's own probe into a :class:`~drkit.ha.model.Snapshot`.

The records agents publish (``member/<site>``, ``observation/<site>``) are
JSON; this module is the one place that knows their fields. Some facts must
outlive the leader's lease (its last LSN, who it was): :class:`Memory` keeps
them across cycles, as Patroni keeps the leader's optime. The synchronous
standby is not one of them: etcd's sync key keeps it (:func:`sync_key`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drkit.ha.drivers.database.base import DatabaseState
from drkit.ha.drivers.dcs.base import ClusterView
from drkit.ha.model import (
    FailoverRecord,
    Leader,
    Local,
    Member,
    Observation,
    Pause,
    Role,
    Snapshot,
    SyncKey,
)
from drkit.ha.splitbrain.audit import AUDIT_KIND


@dataclass
class Memory:
    """What an agent remembers between cycles (mutable, owned by one agent)."""

    leader_site: str | None = None
    leader_lsn: int | None = None
    leader_gone_since: float | None = None
    fenced: bool = False
    lease_deadline_mono: float | None = None
    seen: dict[str, Any] = field(default_factory=dict)
    streamed: set[str] = field(default_factory=set)
    """Replicas the local primary has seen streaming (pg_stat_replication) at some point."""
    leading_since: float | None = None
    """When the current hold of the lease began (wall clock), None while not leading."""

    def remember(self, view: ClusterView, now: float) -> None:
        if view.leader is None:
            if self.leader_gone_since is None:
                self.leader_gone_since = now
            return
        self.leader_gone_since = None
        self.leader_site = view.leader.site
        record = view.members.get(view.leader.site, {})
        if isinstance(record.get("lsn"), int):
            self.leader_lsn = record["lsn"]


def sync_key(view: ClusterView) -> SyncKey | None:
    """The sync key as read (etcd keeps it, not this agent: a restarted agent knows it too)."""
    record = view.sync
    if record is None or not isinstance(record.get("leader"), str):
        return None
    standby = record.get("sync_standby")
    return SyncKey(record["leader"], standby if isinstance(standby, str) else None)


def role_of(state: DatabaseState | None) -> Role:
    if state is None or not state.reachable or state.in_recovery is None:
        return Role.UNKNOWN
    return Role.REPLICA if state.in_recovery else Role.PRIMARY


def member_record(
    state: DatabaseState | None, healthy: bool, now: float, fenced: bool = False
) -> dict[str, Any]:
    """What an agent publishes about its own database under ``member/<site>``.

    ``fenced``: the agent fenced its site; published only while the database
    is no primary (a fenced site that serves writes again is no longer fenced).
    """
    role = role_of(state)
    record: dict[str, Any] = {"role": role.value, "healthy": healthy, "published_at": now}
    if fenced and role is not Role.PRIMARY:
        record["fenced"] = True
    if state is None or not state.reachable:
        return record
    record["lsn"] = state.current_lsn
    record["lag_bytes"] = state.lag_bytes if role is Role.REPLICA else 0
    record["lag_s"] = state.lag_s
    record["streaming"] = bool(state.streaming)
    record["replicas"] = {
        r.name: {"state": r.state, "sync_state": r.sync_state, "lag_bytes": r.lag_bytes}
        for r in state.replicas
    }
    return record


def _member(site: str, record: Mapping[str, Any], sync: SyncKey | None) -> Member:
    try:
        role = Role(record.get("role", "unknown"))
    except ValueError:
        role = Role.UNKNOWN
    lsn = record.get("lsn")
    lag = record.get("lag_bytes")
    return Member(
        site=site,
        role=role,
        healthy=bool(record.get("healthy", False)),
        published_at=float(record.get("published_at", 0.0)),
        lsn=lsn if isinstance(lsn, int) else None,
        lag_bytes=lag if isinstance(lag, int) else None,
        streaming=bool(record.get("streaming", False)),
        sync_standby=sync is not None and sync.standby == site,
        fenced=record.get("fenced") is True,
    )


def _observations(view: ClusterView) -> tuple[Observation, ...]:
    out = []
    for observer, record in view.observations.items():
        at = float(record.get("published_at", 0.0))
        for target, seen in dict(record.get("targets", {})).items():
            out.append(
                Observation(observer, target, bool(seen.get("down")), float(seen["since"]), at)
            )
    return tuple(out)


def _history(view: ClusterView) -> tuple[FailoverRecord, ...]:
    return tuple(
        FailoverRecord(
            at=float(h.get("at", 0.0)),
            from_site=h.get("from"),
            to_site=str(h.get("to", "")),
            reason=str(h.get("reason", "")),
            kind=str(h.get("kind", "failover")),
        )
        for h in view.history
        if h.get("kind") != AUDIT_KIND  # operators' audit records share the history
    )


def snapshot(
    view: ClusterView | None, local: Local, memory: Memory, now: float, mono: float, error: str
) -> Snapshot:
    """The snapshot for this cycle; ``view`` None means etcd did not answer."""
    if view is None:
        return Snapshot(now=now, mono=mono, local=local, dcs_ok=False, dcs_error=error)
    memory.remember(view, now)
    pause = None
    if view.pause is not None:
        p = view.pause
        target = p.get("switchover_to")
        pause = Pause(
            str(p.get("who", "?")),
            str(p.get("reason", "")),
            float(p.get("at", 0)),
            str(target) if target else None,
        )
    leader = None if view.leader is None else Leader(view.leader.site)
    sync = sync_key(view)
    history = _history(view)
    # the sync key names who led last too: it outlives the leader and a restart of this agent
    last_site = (
        memory.leader_site
        or (sync.leader if sync is not None else None)
        or (history[-1].to_site if history else None)
    )
    return Snapshot(
        now=now,
        mono=mono,
        local=local,
        dcs_ok=True,
        leader=leader,
        members=tuple(_member(s, r, sync) for s, r in view.members.items()),
        observations=_observations(view),
        pause=pause,
        history=history,
        last_leader_lsn=memory.leader_lsn,
        last_leader_site=last_site,
        leader_gone_since=memory.leader_gone_since,
        sync=sync,
    )
