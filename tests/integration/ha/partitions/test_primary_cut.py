"""The primary site cut off, each site in its own namespace: by link down, by a silent drop,
and in synchronous mode. West takes over; east stops taking writes before its lease can
expire anywhere else; the client's history shows no write lost that had to survive, no row
taken by two primaries, and none taken by east after its fence deadline."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.ha_history import Fence, assert_history, check_history
from tests.fixtures.ha_netns import HaNetCluster
from tests.integration.ha.partitions.steps import (
    assert_journal,
    cut,
    heal_and_check,
    start_writing,
    wait_failover_to,
    wait_fenced,
)


@pytest.mark.parametrize("how", ["link", "drop"])
def test_primary_site_cut_off_fails_over_to_west(ha_net: HaNetCluster, how: str) -> None:
    with ha_net.scenario(apps=True) as s:
        s.start_app("east")
        s.wait_for(lambda: s.app_health("east")["db_host"] == s.lab.address("east"), "east's app")
        run = start_writing(s)
        cut(run, how)
        fenced_after = wait_fenced(run)
        # east refused writes before its lease could expire anywhere else
        assert fenced_after <= s.lease_ttl_s + run.margin_s, (fenced_after, s.describe())
        record = wait_failover_to(run, "west")
        assert_journal(run, record, "east", "west")
        assert s.dns() == {s.lab.address("west")}
        assert s.lb_state("west") == "ready"
        assert s.lb_state("east") == "maint"  # seen from inside east: its own drain
        assert s.node("east").writable() is False
        s.wait_for(lambda: s.app_health("west")["status"] == 200, "west's app answers")
        app = s.app_health("west")  # started by the failover, it finds the database by DNS
        assert (app["db_host"], app["db_writable"]) == (s.lab.address("west"), True)
        s.wait_for(
            lambda: any("failover east -> west" in a for a in s.alerts()), "the failover alert"
        )
        heal_and_check(run, "west")
        s.wait_for(lambda: s.leader() == "west", "west still leads after the heal")
        assert len(s.history()) == 1


def test_synchronous_mode_loses_no_acknowledged_write(ha_net: HaNetCluster) -> None:
    with ha_net.scenario(synchronous_mode=True) as s:
        s.wait_for(
            lambda: "west" in s.node("east").query("show synchronous_standby_names")[0][0],
            "east names west its synchronous standby",
        )
        run = start_writing(s)
        cut(run, "link")
        wait_fenced(run)
        wait_failover_to(run, "west")
        heal_and_check(run, "west", keep_all=True)  # every acknowledged row, east's too


def test_the_history_checker_catches_a_real_split_brain(ha_net: HaNetCluster) -> None:
    """The checker on real parts breaks when it must: no agents, east cut off, west promoted by
    hand and opened in its load balancer; both take writes past east's fence deadline."""
    with ha_net.scenario() as s:
        s.stop_agents()  # nobody fences, nobody decides
        run = start_writing(s)
        cut(run, "link")
        s.node("west").query("select pg_promote()")
        s.wait_for(lambda: s.node("west").writable(), "west promoted by hand")
        s.cluster.lb_command("west", "set server db/west state ready")
        s.wait_for(lambda: time.time() > run.fence_deadline + 1, "past east's fence deadline")
        acks = s.stop_clients()
        present = {int(r[0]) for r in s.node("west").query("select seq from hist")}
        fences = [Fence("east", run.fence_deadline)]
        with pytest.raises(AssertionError, match="history check failed"):
            assert_history(acks, present, survivor="west", fences=fences)
        found = check_history(acks, present, survivor="west", fences=fences)
        assert {v.rule for v in found} == {"two primaries", "fenced late"}
