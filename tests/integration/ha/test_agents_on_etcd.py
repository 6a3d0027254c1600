"""Three agents (east, west, witness) coordinating through a real 3-member etcd.

The databases and the load balancer are the drivers' memory doubles (the
PostgreSQL and HAProxy drivers are tested by their own suites); the lease,
the compare-and-set and the expiry are etcd's own.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from drkit.errors import UsageError
from drkit.ha.agent import Agent, AgentTimings
from drkit.ha.build import dcs_for
from drkit.ha.decide import Action
from drkit.ha.drivers.database.memory import MemoryDatabase
from drkit.ha.drivers.loadbalancer.base import AdminState
from drkit.ha.drivers.loadbalancer.memory import MemoryLoadBalancer
from drkit.ha.health.checks import ProbeResult
from drkit.ha.ops import switchover
from drkit.ha.policy import policy_from
from drkit.settings.ha import HaSettings
from tests.fixtures.etcd import EtcdCluster

_names = itertools.count()


def inventory(etcd: EtcdCluster) -> HaSettings:
    db = {"host": "127.0.0.1", "data_dir": "/nonexistent"}
    return HaSettings.model_validate(
        {
            "cluster": f"agents{next(_names)}-{int(time.time())}",
            "etcd": {"endpoints": etcd.endpoints},
            "sites": {
                "east": {"database": db},
                "west": {"database": {**db, "priority": 50}},
                "witness": {},
            },
            "witness": "witness",
            "timings": {
                "lease_ttl_s": 5,  # a 2.7 s fencing budget, and 2 s for an etcd election
                "loop_interval_s": 0.3,
                "check_timeout_s": 0.3,
                "check_interval_s": 0.3,
                "dcs_timeout_s": 0.6,
                "fence_timeout_s": 1.0,
                "safety_margin_s": 0.5,
                "rise": 1,
                "fall": 2,
            },
        }
    )


@dataclass
class DbProbe:
    name: str
    db: MemoryDatabase

    def __call__(self, timeout_s: float) -> ProbeResult:
        return ProbeResult(self.db.running, "up" if self.db.running else "refused")


@dataclass
class Sites:
    ha: HaSettings
    dbs: dict[str, MemoryDatabase]
    lb: MemoryLoadBalancer
    agents: dict[str, Agent] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, etcd: EtcdCluster) -> Sites:
        ha = inventory(etcd)
        dbs = {"east": MemoryDatabase("east"), "west": MemoryDatabase("west", in_recovery=True)}
        lb = MemoryLoadBalancer("pg", ["east", "west"])
        lb.set_state("west", AdminState.MAINT)
        sites = cls(ha, dbs, lb)
        t = ha.timings
        timings = AgentTimings(
            t.loop_interval_s,
            t.check_timeout_s,
            t.lease_ttl_s,
            1,
            2,
            dcs_timeout_s=t.dcs_timeout_s,
            fence_timeout_s=t.fence_timeout_s,
            safety_margin_s=t.safety_margin_s,
        )
        for site in ("east", "west", "witness"):
            sites.agents[site] = Agent(
                site,
                policy_from(ha),
                timings,
                dcs_for(ha),
                dbs.get(site),
                load_balancer=lb if site in dbs else None,
                lb_server=site if site in dbs else None,
                peers={s: DbProbe(s, d) for s, d in dbs.items() if s != site},
                alert=sites.alerts.append,
            )
        return sites

    def round(self) -> dict[str, Action]:
        actions = {site: agent.tick().action for site, agent in self.agents.items()}
        time.sleep(self.ha.timings.loop_interval_s)
        return actions

    def until(self, done: object, rounds: int = 40) -> list[dict[str, Action]]:
        seen = []
        for _ in range(rounds):
            seen.append(self.round())
            if callable(done) and done():
                return seen
        raise AssertionError(f"not reached in {rounds} rounds: {seen[-3:]}")

    def leader(self) -> str | None:
        view = self.agents["witness"].dcs.read()
        return None if view.leader is None else view.leader.site

    def close(self) -> None:
        for agent in self.agents.values():
            agent.dcs.close()


def test_database_killed_west_takes_over_through_etcd(etcd: EtcdCluster) -> None:
    sites = Sites.start(etcd)
    try:
        sites.until(lambda: sites.leader() == "east")
        sites.round()
        sites.dbs["east"].running = False
        rounds = sites.until(lambda: sites.leader() == "west")
        assert [r["west"] for r in rounds].count(Action.FAILOVER) == 1
        assert sites.dbs["west"].in_recovery is False
        assert "stop:immediate" in sites.dbs["east"].calls
        assert sites.lb.state["east"].admin is AdminState.MAINT
        assert sites.lb.state["west"].admin is AdminState.READY
        view = sites.agents["witness"].dcs.read()
        assert [(h["from"], h["to"]) for h in view.history] == [("east", "west")]
        for _ in range(3):  # and nothing flips back
            assert sites.round()["west"] is Action.REFRESH
        assert any("failover east -> west" in a for a in sites.alerts)
    finally:
        sites.close()


def test_healthy_cluster_stays_put(etcd: EtcdCluster) -> None:
    sites = Sites.start(etcd)
    try:
        sites.until(lambda: sites.leader() == "east")
        for _ in range(15):  # several lease lifetimes
            actions = sites.round()
            assert actions == {
                "east": Action.REFRESH,
                "west": Action.FOLLOW,
                "witness": Action.NONE,
            }
        assert sites.dbs["west"].in_recovery and not sites.dbs["east"].calls
    finally:
        sites.close()


def test_etcd_unreachable_no_failover_and_the_primary_fences_before_its_lease_ends(
    etcd: EtcdCluster,
) -> None:
    sites = Sites.start(etcd)
    east = sites.agents["east"]
    fences: list[tuple[float | None, float]] = []  # (lease deadline when fencing began, done at)
    fence = east.fence

    def timed_fence(why: str) -> None:
        deadline = east.memory.lease_deadline_mono
        fence(why)
        fences.append((deadline, time.monotonic()))

    east.fence = timed_fence  # type: ignore[method-assign]
    stop = threading.Event()
    threads = [threading.Thread(target=a.run, args=(stop,)) for a in sites.agents.values()]
    for thread in threads:
        thread.start()
    try:
        _wait(lambda: sites.leader() == "east" and east.memory.lease_deadline_mono is not None)
        for member in etcd.members:
            member.pause()  # every member: accepts connections, answers nothing
        _wait(lambda: bool(fences))
        deadline, done = fences[0]
        assert deadline is not None and done < deadline, (deadline, done)
        assert "stop:immediate" in sites.dbs["east"].calls
        assert sites.lb.state["east"].admin is AdminState.MAINT
        time.sleep(sites.ha.timings.lease_ttl_s)  # well past the lease: still nobody promotes
        assert sites.dbs["west"].in_recovery is True
        assert sites.agents["west"].last is not None
        assert sites.agents["west"].last.action is Action.NONE
        assert any("etcd unreachable" in a for a in sites.alerts)
    finally:
        for member in etcd.members:
            member.resume()
        stop.set()
        for thread in threads:
            thread.join(30)
        etcd.wait_healthy()
        sites.close()


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_planned_switchover_demotes_first_then_promotes(etcd: EtcdCluster) -> None:
    sites = Sites.start(etcd)
    stop = threading.Event()
    threads = [threading.Thread(target=a.run, args=(stop,)) for a in sites.agents.values()]
    for thread in threads:
        thread.start()
    dcs = dcs_for(sites.ha)
    try:
        _wait(lambda: sites.leader() == "east" and "west" in dcs.read().members)
        with pytest.raises(UsageError, match="already the primary"):
            switchover(sites.ha, dcs, "east")
        result = switchover(sites.ha, dcs, "west", by="ann", wait_s=30)
        assert result.leader == "west" and result.paused is None
        east, west = sites.dbs["east"], sites.dbs["west"]
        assert east.in_recovery is True and "demote" in east.calls  # demoted, not stopped
        assert "stop:immediate" not in east.calls
        assert west.in_recovery is False
        assert sites.lb.state["east"].admin is AdminState.MAINT
        assert sites.lb.state["west"].admin is AdminState.READY
        view = dcs.read()
        assert [(h["from"], h["to"], h["kind"]) for h in view.history] == [
            ("east", "west", "switchover")
        ]
        time.sleep(1.0)
        assert sites.leader() == "west"  # and it stays
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        dcs.close()
        sites.close()
