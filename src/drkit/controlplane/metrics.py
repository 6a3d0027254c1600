"""The control plane on /metrics: this serve's role, the lease, etcd."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from drkit.controlplane.decide import Role
from drkit.controlplane.lease import LeaseKeeper


class ControlPlaneCollector(Collector):
    def __init__(self, keeper: LeaseKeeper) -> None:
        self.keeper = keeper

    def collect(self) -> Iterator[Metric]:
        k = self.keeper
        role = GaugeMetricFamily(
            "drkit_control_plane_role",
            "1 for this serve's control-plane role (active runs the schedules)",
            labels=["serve", "role"],
        )
        now = k.role()
        for r in Role:
            role.add_metric([k.name, r.value], 1.0 if r is now else 0.0)
        yield role
        trusted = GaugeMetricFamily(
            "drkit_control_plane_lease_trusted_seconds",
            "Seconds this serve may still start jobs on its lease (0 unless active)",
            labels=["serve"],
        )
        trusted.add_metric([k.name], k.trusted_for_s())
        yield trusted
        holder = GaugeMetricFamily(
            "drkit_control_plane_lease_holder",
            "1 for the serve that holds the lease, as this serve last saw it",
            labels=["serve", "holder"],
        )
        if k.holder.holder is not None:
            holder.add_metric([k.name, k.holder.holder], 1.0)
        yield holder
        up = GaugeMetricFamily(
            "drkit_control_plane_etcd_up",
            "1 if etcd answered the last lease cycle",
            labels=["serve"],
        )
        up.add_metric([k.name], 1.0 if k.etcd_up else 0.0)
        yield up
