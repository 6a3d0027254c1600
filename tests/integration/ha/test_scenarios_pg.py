"""End to end on real parts: PostgreSQL primary + streaming replica, 3-member etcd, HAProxy,
Knot DNS, and the three agents as `drkit agent` builds them (the failover runbook included)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, get_run
from drkit.ha.agent import Agent
from drkit.ha.agent.runtime import build_agent
from drkit.ha.build import dcs_for
from drkit.settings.model import Settings
from tests.fixtures.etcd import EtcdCluster
from tests.fixtures.ha import KnotServer, PgPair
from tests.fixtures.ha_scenario import inventory, settings_of
from tests.fixtures.haproxy import HaproxyServer


def settings_for(pair: PgPair, etcd: EtcdCluster, dns: KnotServer, lb: HaproxyServer) -> Settings:
    return settings_of(inventory(pair, etcd.endpoints, lb_socket=lb.socket_path, dns=dns))


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.close()


def _wait(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def _admin(lb: HaproxyServer) -> dict[str, str]:
    lines = lb.runtime("show servers state db").splitlines()[2:]
    return {f[3]: f[6] for f in (line.split() for line in lines) if len(f) > 6}


def test_primary_database_killed_fails_over_on_real_parts(
    pg_pair: PgPair,
    etcd: EtcdCluster,
    knot: KnotServer,
    haproxy: HaproxyServer,
    catalog: Catalog,
) -> None:
    settings = settings_for(pg_pair, etcd, knot, haproxy)
    assert settings.ha is not None
    haproxy.runtime("set server db/s2 state maint")
    agents: dict[str, Agent] = {
        site: build_agent(settings, site, lambda: catalog) for site in ("east", "west", "witness")
    }
    stop = threading.Event()
    threads = [threading.Thread(target=a.run, args=(stop,)) for a in agents.values()]
    for thread in threads:
        thread.start()
    dcs = dcs_for(settings.ha)
    try:
        _wait(
            lambda: (
                (v := dcs.read()).leader is not None
                and v.leader.site == "east"
                and "west" in v.members
            )
        )
        time.sleep(1.0)
        assert pg_pair.replica.in_recovery() is True  # a healthy cluster stays put

        pg_pair.primary.stop("immediate")  # the primary's database dies
        _wait(
            lambda: (
                (v := dcs.read()).leader is not None and v.leader.site == "west" and bool(v.history)
            )
        )
        assert pg_pair.replica.in_recovery() is False
        pg_pair.replica.query("create table written_after_failover(x int)")
        assert knot.query("db") == {pg_pair.replica.host}
        assert _admin(haproxy) == {"s1": "1", "s2": "0"}
        (record,) = dcs.read().history
        assert (record["from"], record["to"], record["kind"]) == ("east", "west", "failover")
        run = get_run(catalog, int(str(record["note"]).removeprefix("run ")))
        assert run.status is RunStatus.SUCCEEDED
        time.sleep(2.0)
        assert dcs.read().leader.site == "west"  # type: ignore[union-attr]
        assert len(dcs.read().history) == 1  # one failover, not more
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        dcs.close()
        for agent in agents.values():
            agent.dcs.close()


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    """A backend that ended since the listing (a probe's connection) is no longer there."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _pg_pids(data_dir: Path) -> list[int]:
    """The postmaster and its children."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            pids.append(int(stat.parent.name))
    return pids


def test_three_second_freeze_of_the_primary_does_not_fail_over(
    pg_pair: PgPair,
    etcd: EtcdCluster,
    knot: KnotServer,
    haproxy: HaproxyServer,
    catalog: Catalog,
) -> None:
    settings = settings_for(pg_pair, etcd, knot, haproxy)
    assert settings.ha is not None
    agents = {s: build_agent(settings, s, lambda: catalog) for s in ("east", "west", "witness")}
    east = agents["east"]
    tick = east.tick
    frozen, asleep, resumed = threading.Event(), threading.Event(), threading.Event()

    def freezable_tick():  # type: ignore[no-untyped-def]
        if frozen.is_set():
            # the agent stops (between two cycles) before its database does and wakes with
            # it, as in a freeze of the whole site: a simulated agent that ran on while its
            # database was stopped would see it down twice and fence it, in the test alone
            asleep.set()
            resumed.wait(30.0)
            frozen.clear()
        return tick()

    east.tick = freezable_tick  # type: ignore[method-assign]
    stop = threading.Event()
    threads = [threading.Thread(target=a.run, args=(stop,)) for a in agents.values()]
    for thread in threads:
        thread.start()
    dcs = dcs_for(settings.ha)
    try:
        _wait(
            lambda: (
                (v := dcs.read()).leader is not None
                and v.leader.site == "east"
                and "west" in v.members
            )
        )
        frozen.set()
        assert asleep.wait(30.0)
        pids = _pg_pids(pg_pair.primary.data_dir)
        try:
            _signal_all(pids, signal.SIGSTOP)
            time.sleep(3.0)
            _signal_all(pids, signal.SIGCONT)
        finally:
            resumed.set()
        time.sleep(6.0)  # more than a lease lifetime after the freeze
        view = dcs.read()
        assert view.leader is not None and view.leader.site == "east"
        assert view.history == ()
        assert pg_pair.replica.in_recovery() is True
        assert pg_pair.primary.in_recovery() is False
        assert knot.query("db") == {pg_pair.primary.host}
    finally:
        with contextlib.suppress(Exception):
            for pid in _pg_pids(pg_pair.primary.data_dir):
                os.kill(pid, signal.SIGCONT)
        stop.set()
        for thread in threads:
            thread.join(60)
        dcs.close()
        for agent in agents.values():
            agent.dcs.close()


def test_etcd_unreachable_the_primary_stops_its_database_and_nobody_promotes(
    pg_pair: PgPair,
    etcd: EtcdCluster,
    knot: KnotServer,
    haproxy: HaproxyServer,
    catalog: Catalog,
) -> None:
    settings = settings_for(pg_pair, etcd, knot, haproxy)
    assert settings.ha is not None
    agents = {s: build_agent(settings, s, lambda: catalog) for s in ("east", "west", "witness")}
    alerts: list[str] = []
    for agent in agents.values():
        agent.alert = alerts.append
    stop = threading.Event()
    threads = [threading.Thread(target=a.run, args=(stop,)) for a in agents.values()]
    for thread in threads:
        thread.start()
    dcs = dcs_for(settings.ha)
    try:
        _wait(
            lambda: (
                (v := dcs.read()).leader is not None
                and v.leader.site == "east"
                and "west" in v.members
            )
        )
        for member in etcd.members:
            member.pause()
        _wait(lambda: not pg_pair.primary.reachable(), timeout=30)  # fenced: no more writes
        assert _admin(haproxy)["s1"] == "1"  # and out of the load balancer
        time.sleep(settings.ha.timings.lease_ttl_s + 1)
        assert pg_pair.replica.in_recovery() is True  # no automatic action without etcd
        assert any("east fenced itself" in a for a in alerts)
        assert any("etcd unreachable" in a for a in alerts)
        for member in etcd.members:
            member.resume()
        etcd.wait_healthy()
        _wait(lambda: any("etcd answers again" in a for a in alerts), timeout=30)
    finally:
        for member in etcd.members:
            member.resume()
        stop.set()
        for thread in threads:
            thread.join(60)
        etcd.wait_healthy()
        dcs.close()
        for agent in agents.values():
            agent.dcs.close()
