"""The primary site cut off, each site in its own namespace: by link down, by a silent drop,
and in synchronous mode. West takes over; east stops taking writes before its lease can
expire anywhere else; the client's history shows no write lost that had to survive, no row
taken by two primaries, and none taken by east after its fence deadline."""

from __future__ import annotations

import pytest

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
