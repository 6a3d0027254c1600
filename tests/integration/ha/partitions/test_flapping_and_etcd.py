"""A flapping link at the primary site (at most one failover, then the anti-flapping period
holds), and etcd entirely unreachable (nobody acts; the primary fences itself before its lease
could expire; alerts, and "etcd answers again" once it is back)."""

from __future__ import annotations

import time

from tests.fixtures.ha_netns import AGENT_SITES, ETCD_CLIENT, HaNetCluster
from tests.integration.ha.partitions.steps import (
    heal_and_check,
    mark_durable,
    start_writing,
    wait_fenced,
)


def test_flapping_primary_link_fails_over_at_most_once(ha_net: HaNetCluster) -> None:
    with ha_net.scenario() as s:
        run = start_writing(s)
        down_s = s.lease_ttl_s * 0.75  # long enough to make the primary fence itself
        up_s = s.lease_ttl_s * 0.5
        mark_durable(run)
        run.cut_at = time.time()
        end = run.cut_at + 60
        cuts = []
        while time.time() < end:
            site = s.leader() or "east"
            cuts.append(site)
            s.lab.link_down(site)
            time.sleep(down_s)
            s.lab.link_up(site)
            time.sleep(up_s)
        history = s.history()
        assert len(history) <= 1, history
        assert all(h["from"] != h["to"] for h in history), history
        anti_flapping = "inside the 600 s anti-flapping period"
        if history:  # the primary flapped again after the failover: an alert, no second one
            assert any(anti_flapping in a for a in s.alerts()), s.alerts()
        s.wait_for(lambda: s.leader() is not None, "a primary after the flapping")
        heal_and_check(run, s.leader() or "east")


def test_etcd_unreachable_nobody_acts_and_the_primary_fences_itself(
    ha_net: HaNetCluster,
) -> None:
    with ha_net.scenario() as s:
        run = start_writing(s)
        mark_durable(run)
        run.cut_at = time.time()
        for site in AGENT_SITES:
            s.lab.refuse_port(site, ETCD_CLIENT)
        fenced_after = wait_fenced(run)
        assert fenced_after <= s.lease_ttl_s + run.margin_s
        assert s.lb_state("east") == "maint"
        time.sleep(s.lease_ttl_s + 2 * s.loop_s)  # past the lease: still nobody promotes
        assert s.node("west").in_recovery() is True
        alerts = s.alerts()
        assert any("east fenced itself" in a for a in alerts), alerts
        assert any("etcd unreachable" in a for a in alerts), alerts
        s.lab.heal()
        s.wait_for(lambda: any("etcd answers again" in a for a in s.alerts()), "etcd is back")
        heal_and_check(run, s.leader() or "west")
