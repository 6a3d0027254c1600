"""The control-plane lease on etcd, through the HA agent's etcd v3 driver (not a copy of it).

The serves of one control plane are "sites" of a DCS cluster named
``serve.<cluster>`` (HA cluster names have no dot, so the keys never meet an
HA agent's): the leader key under ``/drkit/serve.<cluster>/leader`` holds the
active serve's name under its lease. The driver's contract (one lease per
client, compare-and-set on the leader key, DCSUnavailable within its
timeout) is exactly what the loop needs; this module only adapts the
settings and the answers.
"""

from __future__ import annotations

from typing import Any

from drkit.controlplane.store import Holding, LeaseUnavailable
from drkit.ha.build import etcd_driver_settings
from drkit.ha.drivers.dcs.base import DCS
from drkit.ha.drivers.dcs.registry import DCS_DRIVERS
from drkit.ha.drivers.errors import DCSError
from drkit.settings.daemon import ControlPlaneSettings


def dcs_settings(cp: ControlPlaneSettings) -> dict[str, Any]:
    """The etcd driver's settings for ``cp`` (the whole call fits in etcd_timeout_s)."""
    return etcd_driver_settings(cp.etcd, f"serve.{cp.cluster}", cp.lease_ttl_s, cp.etcd_timeout_s)


class EtcdLeaseStore:
    def __init__(self, dcs: DCS) -> None:
        self.dcs = dcs

    def take(self, name: str) -> Holding:
        try:
            if self.dcs.acquire_leader(name):
                return Holding(name, float(self.dcs.ttl_s))
            leader = self.dcs.read().leader
        except DCSError as exc:
            raise LeaseUnavailable(exc.message, hint=exc.hint) from exc
        if leader is None:
            return Holding(None)
        return Holding(leader.site, leader.expires_in_s)

    def release(self, name: str) -> None:
        try:
            self.dcs.release_leader(name)
        except DCSError:
            pass  # the lease expires by itself

    def close(self) -> None:
        self.dcs.close()


def etcd_lease_store(cp: ControlPlaneSettings) -> EtcdLeaseStore:
    return EtcdLeaseStore(DCS_DRIVERS.build(DCS_DRIVERS.parse(dcs_settings(cp))))


def read_holder(cp: ControlPlaneSettings) -> Holding:
    """Who is active now, read without taking part (`drkit status`); LeaseUnavailable if unknown."""
    dcs = DCS_DRIVERS.build(DCS_DRIVERS.parse(dcs_settings(cp)))
    try:
        leader = dcs.read().leader
    except DCSError as exc:
        raise LeaseUnavailable(exc.message, hint=exc.hint) from exc
    finally:
        dcs.close()
    return Holding(None) if leader is None else Holding(leader.site, leader.expires_in_s)
