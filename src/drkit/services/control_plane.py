"""Which `drkit serve` is active, as etcd says (`drkit status`), read without taking part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drkit.settings.model import Settings


@dataclass(frozen=True)
class ControlPlaneStatus:
    cluster: str
    active: str | None
    """The serve holding the lease; None when nobody holds it or etcd did not answer."""
    expires_in_s: float | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "active": self.active,
            "expires_in_s": self.expires_in_s,
            "error": self.error,
        }

    def sentence(self) -> str:
        if self.error is not None:
            return f"unknown: etcd did not answer ({self.error}); no serve starts scheduled jobs"
        if self.active is None:
            return "no serve is active: the next serve to renew takes the lease"
        left = f", lease expires in {self.expires_in_s:.0f} s" if self.expires_in_s else ""
        return f"{self.active} is active (runs the schedules and alerts{left})"


def control_plane_status(settings: Settings) -> ControlPlaneStatus | None:
    """None when daemon.control_plane is not set (one serve, nothing to elect)."""
    cp = settings.daemon.control_plane
    if cp is None:
        return None
    from drkit.controlplane.etcd import read_holder
    from drkit.controlplane.store import LeaseUnavailable

    try:
        holding = read_holder(cp)
    except LeaseUnavailable as exc:
        return ControlPlaneStatus(cp.cluster, None, error=exc.message)
    return ControlPlaneStatus(cp.cluster, holding.holder, holding.expires_in_s)
