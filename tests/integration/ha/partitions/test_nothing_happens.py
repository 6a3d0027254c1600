"""Partitions that must not move the primary: the witness isolated, the replica site isolated,
and an asymmetric partition (west and the witness cannot open connections to east, east still
reaches them). Each holds for longer than a lease; east keeps the lease, DNS and its load
balancer; the client's history shows east alone acknowledging, and nothing lost."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.fixtures.ha_netns import HaNetCluster, Scenario
from tests.integration.ha.partitions.steps import Run, heal_and_check, mark_durable, start_writing


def hold(run: Run, fault: Callable[[], None], leases: float = 1.5) -> None:
    """Apply ``fault`` and keep it ``leases`` lease lifetimes (what a failover would need)."""
    mark_durable(run)
    run.cut_at = time.time()
    fault()
    time.sleep(leases * run.scenario.lease_ttl_s)


def assert_unchanged(s: Scenario) -> None:
    assert s.leader() == "east", s.describe()
    assert s.history() == []
    assert s.node("east").writable() is True
    assert s.node("west").in_recovery() is True
    assert s.dns() == {s.lab.address("east")}
    assert (s.lb_state("east"), s.lb_state("west")) == ("ready", "maint")


def test_witness_then_replica_site_isolated_change_nothing(ha_net: HaNetCluster) -> None:
    """One pair for both faults, in turn (the suite stays lean); the replica's loss alerts."""
    with ha_net.scenario() as s:
        run = start_writing(s, local_east=False)
        hold(run, lambda: s.lab.link_down("witness"))
        assert_unchanged(s)
        s.lab.heal()
        s.pair.wait_replicated()
        hold(run, lambda: s.lab.link_down("west"))
        assert_unchanged(s)
        alerts = s.alerts()
        cut = [a for a in alerts if "west is unreachable from east, witness" in a]
        # west reaches nothing: its last row in etcd is stale, no evidence it reaches etcd
        listing = "\n".join(alerts)
        assert any("its own view is" in a for a in cut), listing
        # its record expired with its lease: the primary's pg_stat_replication tells
        assert any("replica west is not streaming from the primary" in a for a in alerts), listing
        heal_and_check(run, "east", fenced=None)
        assert_unchanged(s)


def test_asymmetric_partition_is_detected_and_leaves_one_primary(ha_net: HaNetCluster) -> None:
    """West and the witness cannot reach east, east reaches them (and etcd): detected, alerted,
    and resolved by the quorum: one primary at the end, the one the majority reaches."""
    with ha_net.scenario() as s:
        run = start_writing(s)

        def asymmetric() -> None:
            s.lab.refuse_from("east", "west")
            s.lab.refuse_from("east", "witness")

        hold(run, asymmetric, leases=2)
        detected = "east is unreachable from west, witness but still reaches etcd"
        # on a loaded machine the resolution may need a few more loops than two leases
        s.wait_for(lambda: any(detected in a for a in s.alerts()), "the asymmetry alerted")
        s.wait_for(lambda: s.leader() == "west" and s.history(), "the majority's side leads")
        assert len(s.history()) == 1, s.history()
        assert s.node("west").writable() and not s.node("east").writable()
        assert s.dns() == {s.lab.address("west")}
        heal_and_check(run, "west")
