"""Faults that must not start a failover, on one real PostgreSQL pair and the 3-member etcd.

One cluster, three faults in turn (the suite stays lean): the etcd member that
leads raft is killed, then the witness's agent is lost, then the replica falls
behind past ``maximum_lag_on_failover`` and the primary dies. The first two
change nothing; the last is refused with an alert.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import httpx
import psycopg

from drkit.catalog import Catalog
from drkit.ha.agent import Agent
from drkit.ha.build import dcs_for
from drkit.ha.drivers.dcs.base import DCS
from tests.fixtures.etcd import EtcdCluster, EtcdMember
from tests.fixtures.ha import PgPair
from tests.fixtures.ha_scenario import FAST_TIMINGS, inventory, running_agents, settings_of
from tests.fixtures.haproxy import wait_until

MAX_LAG = 64 * 1024
# the tests' fast timings: the settings check makes their slack (lease beyond the fencing
# budget) cover an etcd election, and the primary rides the election out
TIMINGS = FAST_TIMINGS
LEASE_S = float(TIMINGS["lease_ttl_s"])


def _wait(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    wait_until(condition, timeout, what, ignoring=(psycopg.Error,))


def _raft_leader(etcd: EtcdCluster) -> EtcdMember:
    status = httpx.post(f"{etcd.members[0].url}/v3/maintenance/status", json={}, timeout=5).json()
    for member in etcd.members:
        mine = httpx.post(f"{member.url}/v3/maintenance/status", json={}, timeout=5).json()
        if mine["header"]["member_id"] == status["leader"]:
            return member
    raise AssertionError(f"no member leads raft: {status}")


def _unchanged(dcs: DCS, pair: PgPair, agents: dict[str, Agent], alerts: list[str]) -> None:
    view = dcs.read()
    assert view.leader is not None and view.leader.site == "east"
    assert view.history == ()
    assert pair.primary.in_recovery() is False and pair.replica.in_recovery() is True
    pair.primary.query("insert into still_writable values (1)")
    assert not any("fenced" in a or "failover" in a for a in alerts), alerts
    assert agents["east"].last is not None
    assert agents["east"].last.sentence == "no action: I am the healthy leader"


def test_etcd_member_and_witness_lost_change_nothing_a_lagging_replica_is_refused(
    pg_pair: PgPair, etcd: EtcdCluster, catalog: Catalog
) -> None:
    pair = pg_pair
    settings = settings_of(
        inventory(pair, etcd.endpoints, timings=TIMINGS, maximum_lag_on_failover=MAX_LAG)
    )
    assert settings.ha is not None
    alerts: list[str] = []
    witness_lost = threading.Event()

    def prepare(agents: dict[str, Agent]) -> None:
        for agent in agents.values():
            agent.alert = alerts.append
        witness = agents["witness"]
        tick = witness.tick

        def lost_tick():  # type: ignore[no-untyped-def]
            return witness.last if witness_lost.is_set() else tick()

        witness.tick = lost_tick  # type: ignore[method-assign]

    pair.primary.query("create table still_writable(x int)")
    dcs = dcs_for(settings.ha)
    receiver = None
    try:
        with running_agents(settings, lambda: catalog, prepare) as agents:
            _wait(
                lambda: (
                    (v := dcs.read()).leader is not None
                    and v.leader.site == "east"
                    and {"east", "west", "witness"} <= set(v.observations)
                ),
                "east leading, every agent observing",
            )

            # 1. the etcd member leading raft dies: the other two keep a quorum
            member = _raft_leader(etcd)
            member.kill()
            time.sleep(LEASE_S + 2)  # more than a lease: nobody may have lost it
            _unchanged(dcs, pair, agents, alerts)
            member.start()
            etcd.wait_healthy()

            # 2. the witness's agent is gone: its observations expire with its lease
            witness_lost.set()
            _wait(lambda: "witness" not in dcs.read().observations, "the witness's record gone")
            time.sleep(2)
            _unchanged(dcs, pair, agents, alerts)

            # 3. west stops receiving WAL, east writes past the maximum lag, then dies
            witness_lost.clear()
            _wait(lambda: "witness" in dcs.read().observations, "the witness back")
            (receiver,) = pair.replica.query("select pid from pg_stat_wal_receiver")[0]
            os.kill(receiver, signal.SIGSTOP)
            pair.primary.query(
                "create table bulk as select g, repeat('x', 200) from generate_series(1, 5000) g"
            )
            (ahead,) = pair.primary.query("select pg_current_wal_lsn() - '0/0'::pg_lsn")[0]
            _wait(lambda: (agents["west"].memory.leader_lsn or 0) >= ahead, "east's LSN seen")
            pair.primary.stop("immediate")
            _wait(
                lambda: any("past maximum_lag_on_failover" in a for a in alerts),
                "the lag alert",
            )
            time.sleep(LEASE_S)
            assert pair.replica.in_recovery() is True  # not promoted: it would lose writes
            assert dcs.read().history == ()
            (alert,) = [a for a in alerts if "past maximum_lag_on_failover" in a]
            assert f"maximum_lag_on_failover {MAX_LAG} bytes" in alert
    finally:
        if receiver is not None:
            os.kill(receiver, signal.SIGCONT)
        dcs.close()
