"""Operator actions on the cluster through etcd: status, pause, resume.

One typed :class:`ClusterStatus` serves ``drkit ha status`` and its
``--json`` (``as_json``), so every face renders the same shape.
"""

from __future__ import annotations

import getpass
import logging
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

from drkit.errors import DrkitError, UsageError
from drkit.ha.build import conninfo
from drkit.ha.drivers.database.base import Database, StopMode
from drkit.ha.drivers.dcs.base import DCS, ClusterView
from drkit.ha.drivers.errors import DatabaseError
from drkit.ha.splitbrain.audit import AUDIT_KIND
from drkit.settings.ha import HaSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SiteStatus:
    site: str
    role: str
    leader: bool
    healthy: bool | None
    lsn: int | None
    lag_bytes: int | None
    lag_s: float | None
    streaming: bool | None
    seen_down_by: tuple[str, ...]
    witness: bool


@dataclass(frozen=True)
class ClusterStatus:
    cluster: str
    leader: str | None
    paused: dict[str, Any] | None
    last_failover: dict[str, Any] | None
    sites: tuple[SiteStatus, ...]
    sync: dict[str, Any] | None = None
    """etcd's sync key: the synchronous standby the leader named (synchronous mode)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def status(ha: HaSettings, view: ClusterView) -> ClusterStatus:
    leader = view.leader.site if view.leader is not None else None
    down: dict[str, list[str]] = {}
    for observer, record in view.observations.items():
        for target, seen in dict(record.get("targets", {})).items():
            if seen.get("down"):
                down.setdefault(target, []).append(observer)
    sites = []
    for name, site in sorted(ha.sites.items()):
        m = view.members.get(name, {})
        witness = site.database is None
        role = "witness" if witness else str(m.get("role", "no agent"))
        sites.append(
            SiteStatus(
                site=name,
                role=role,
                leader=name == leader,
                healthy=None if witness or not m else bool(m.get("healthy")),
                lsn=m.get("lsn"),
                lag_bytes=m.get("lag_bytes"),
                lag_s=m.get("lag_s"),
                streaming=m.get("streaming"),
                seen_down_by=tuple(sorted(down.get(name, []))),
                witness=witness,
            )
        )
    history = [dict(h) for h in view.history if h.get("kind") != AUDIT_KIND]  # events only
    pause = dict(view.pause) if view.pause is not None else None
    sync = dict(view.sync) if view.sync is not None and ha.synchronous_mode else None
    last = history[-1] if history else None
    return ClusterStatus(ha.cluster, leader, pause, last, tuple(sites), sync)


def actor(by: str | None) -> str:
    return by or f"{getpass.getuser()}@{socket.gethostname()}"


def pause(dcs: DCS, reason: str, by: str | None = None) -> dict[str, Any]:
    if not reason.strip():
        raise UsageError("a pause needs a reason", hint="drkit ha pause --reason 'why'")
    record = {"who": actor(by), "reason": reason, "at": time.time()}
    dcs.set_pause(record)
    return record


def resume(dcs: DCS) -> dict[str, Any] | None:
    """Lift the pause; returns the record that was lifted (None: was not paused)."""
    previous = dcs.read().pause
    dcs.set_pause(None)
    return dict(previous) if previous is not None else None


def switchover(
    ha: HaSettings,
    dcs: DCS,
    to: str,
    by: str | None = None,
    wait_s: float = 60.0,
    poll_s: float = 0.5,
) -> ClusterStatus:
    """Planned switchover to ``to``: the leader demotes first, then ``to`` promotes.

    Recorded as a pause with ``switchover_to`` (no automatic failover while
    it runs); the new leader lifts it. Returns the status once ``to`` leads.
    """
    view = dcs.read()
    _check_switchover(ha, view, to)
    dcs.set_pause(
        {"who": actor(by), "reason": f"switchover to {to}", "at": time.time(), "switchover_to": to}
    )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        view = dcs.read()
        if view.leader is not None and view.leader.site == to and view.pause is None:
            return status(ha, view)
        time.sleep(poll_s)
    raise DrkitError(
        f"switchover to {to} did not finish within {wait_s:g} s",
        hint="`drkit ha status` shows where it stands; `drkit ha resume` cancels it "
        "(an already demoted primary stays a replica)",
    )


def _check_switchover(ha: HaSettings, view: ClusterView, to: str) -> None:
    if to not in ha.database_sites():
        raise UsageError(
            f"{to!r} is not a site with a database", hint=f"sites: {', '.join(ha.database_sites())}"
        )
    if view.leader is None:
        raise UsageError("no site leads the cluster now", hint="`drkit ha status`")
    if view.leader.site == to:
        raise UsageError(f"{to} is already the primary")
    member = view.members.get(to, {})
    if member.get("role") != "replica" or not member.get("healthy"):
        raise UsageError(
            f"{to} is not a healthy replica with a running agent",
            hint="`drkit ha status` shows its state",
        )
    if view.pause is not None:
        raise UsageError("the cluster is paused", hint="`drkit ha resume` first")


def rejoin(database: Database, primary_conninfo: str, *, diverged: bool = False) -> str:
    """Make a stopped or fenced old primary a replica of the primary: pg_rewind, else reclone.

    Returns "rewind" or "reclone". A replica that streams is left alone
    ("replica already"), unless it ``diverged``; a read-only server that streams
    from nobody (an old primary fenced by demotion) is rewound like a stopped one.
    """
    state = database.probe()
    if state.reachable and state.in_recovery and state.streaming and not diverged:
        return "replica already"
    if state.reachable:
        database.stop(StopMode.FAST)  # only a stopped server can be rewound
    try:
        database.rewind_from(primary_conninfo)
        return "rewind"
    except DatabaseError as exc:
        log.warning("pg_rewind failed (%s); taking a fresh base backup instead", exc)
    database.reclone_from(primary_conninfo)
    return "reclone"


def leader_conninfo(ha: HaSettings, view: ClusterView, site: str) -> str:
    if view.leader is None:
        raise UsageError("no site leads the cluster now", hint="`drkit ha status`")
    if view.leader.site == site:
        raise UsageError(f"{site} is the primary; rejoin makes an old primary a replica")
    return conninfo(ha, view.leader.site, site)
