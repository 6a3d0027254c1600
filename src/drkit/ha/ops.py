"""Operator actions on the cluster through etcd: status, pause, resume.

One typed :class:`ClusterStatus` serves ``drkit ha status`` and its
``--json`` (``as_json``), so every face renders the same shape.
"""

from __future__ import annotations

import getpass
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

from drkit.errors import UsageError
from drkit.ha.drivers.dcs.base import DCS, ClusterView
from drkit.settings.ha import HaSettings


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
    history = [dict(h) for h in view.history]
    pause = dict(view.pause) if view.pause is not None else None
    return ClusterStatus(ha.cluster, leader, pause, history[-1] if history else None, tuple(sites))


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
