"""The agent loop on memory drivers: lease, follow, failover, fencing, etcd loss, bad ticks."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

from drkit.ha.agent import Agent, AgentTimings
from drkit.ha.agent.loop import RETRY_PAUSE_S
from drkit.ha.decide import Action
from drkit.ha.drivers.database.base import StopMode
from drkit.ha.drivers.database.memory import MemoryDatabase
from drkit.ha.drivers.dcs.base import ClusterView
from drkit.ha.drivers.dcs.memory import MemoryDCS, MemoryStore
from drkit.ha.drivers.loadbalancer.base import AdminState
from drkit.ha.drivers.loadbalancer.memory import MemoryLoadBalancer
from drkit.ha.gather import Memory
from drkit.ha.health.checks import ProbeResult
from drkit.ha.policy import Policy

TIMINGS = AgentTimings(loop_interval_s=1.0, check_timeout_s=1.0, lease_ttl_s=8.0, rise=1, fall=2)
POLICY = Policy(
    observers={
        "east": ("west", "witness"),
        "west": ("east", "witness"),
        "witness": ("east", "west"),
    },
    priorities={"east": 100, "west": 50},
    witnesses=frozenset({"witness"}),
    lease_ttl_s=8.0,
    fence_budget_s=6.0,
    confirm_down_s=0.0,
    maximum_lag=1048576,
    synchronous=False,
    anti_flapping_s=600.0,
)


@dataclass
class DbProbe:
    """A peer's view of a memory database: up when it runs (a blocked network: ``cut``)."""

    name: str
    db: MemoryDatabase
    cut: bool = False

    def __call__(self, timeout_s: float) -> ProbeResult:
        ok = self.db.running and not self.cut
        return ProbeResult(ok, "up" if ok else "refused")


@dataclass
class Cluster:
    store: MemoryStore = field(default_factory=MemoryStore)
    east_db: MemoryDatabase = field(default_factory=lambda: MemoryDatabase("east"))
    west_db: MemoryDatabase = field(
        default_factory=lambda: MemoryDatabase("west", in_recovery=True)
    )
    lb: MemoryLoadBalancer = field(
        default_factory=lambda: MemoryLoadBalancer("pg", ["east", "west"])
    )
    alerts: list[str] = field(default_factory=list)
    agents: dict[str, Agent] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.west_db.upstream = "east"
        self.lb.set_state("west", AdminState.MAINT)
        dbs = {"east": self.east_db, "west": self.west_db}
        for site in ("east", "west", "witness"):
            peers = {s: DbProbe(s, db) for s, db in dbs.items() if s != site}
            self.agents[site] = Agent(
                site,
                POLICY,
                TIMINGS,
                MemoryDCS(self.store, "c", ttl_s=8),
                dbs.get(site),
                load_balancer=self.lb if site != "witness" else None,
                lb_server=site if site != "witness" else None,
                peers=peers,
                alert=self.alerts.append,
                wall=self.store.clock,
                mono=self.store.clock,
                sleep=self.store.clock.advance,
            )

    def tick(self, seconds: float = 1.0) -> dict[str, Action]:
        actions = {site: agent.tick().action for site, agent in self.agents.items()}
        self.store.clock.advance(seconds)
        return actions

    def leader(self) -> str | None:
        view = self.agents["witness"].dcs.read()
        return None if view.leader is None else view.leader.site


def test_primary_takes_the_lease_and_the_replica_follows() -> None:
    c = Cluster()
    assert c.tick()["east"] is Action.ACQUIRE
    actions = c.tick()
    assert actions == {"east": Action.REFRESH, "west": Action.FOLLOW, "witness": Action.NONE}
    assert c.leader() == "east"
    view = c.agents["west"].dcs.read()
    assert view.members["east"]["role"] == "primary"
    assert view.observations["witness"]["targets"]["east"]["down"] is False


def test_database_killed_fails_over_once() -> None:
    c = Cluster()
    c.tick()
    c.tick()
    c.east_db.running = False
    seen = [c.tick() for _ in range(4)]
    assert Action.RELEASE in [s["east"] for s in seen]
    assert "stop:immediate" in c.east_db.calls
    assert [s["west"] for s in seen].count(Action.FAILOVER) == 1
    assert c.leader() == "west"
    assert c.west_db.in_recovery is False
    assert c.lb.state["east"].admin is AdminState.MAINT
    assert c.lb.state["west"].admin is AdminState.READY
    view = c.agents["witness"].dcs.read()
    assert [(h["from"], h["to"]) for h in view.history] == [("east", "west")]
    assert any("failover east -> west" in a for a in c.alerts)
    assert c.tick()["west"] is Action.REFRESH  # and it goes on leading


def test_short_freeze_does_not_fail_over() -> None:
    c = Cluster()
    c.tick()
    c.tick()
    east = c.agents.pop("east")
    c.east_db.running = False  # frozen: not answering the peers either
    for _ in range(3):
        assert c.tick()["west"] is Action.FOLLOW  # the lease (8 s) outlives a 3 s freeze
    c.east_db.running = True
    c.agents["east"] = east
    assert c.tick()["east"] is Action.REFRESH
    assert c.west_db.in_recovery is True and c.leader() == "east"


def test_one_observer_cut_off_does_nothing_while_the_lease_holds() -> None:
    c = Cluster()
    c.tick()
    for probe in c.agents["witness"].peers.values():
        assert isinstance(probe, DbProbe)
        probe.cut = True
    for _ in range(5):
        assert c.tick()["west"] is Action.FOLLOW
    assert c.leader() == "east" and c.west_db.in_recovery


def _outage(c: Cluster, seconds: float | None) -> list[float]:
    """etcd unavailable from now for ``seconds`` (None: for good); returns when east fenced.

    The agents' sleeps move the shared fake clock, so a ride-out takes fake time.
    """
    back_at = None if seconds is None else c.store.clock() + seconds
    fenced: list[float] = []
    stop = c.east_db.stop

    def timed_stop(mode: StopMode = StopMode.FAST) -> None:
        fenced.append(c.store.clock())
        stop(mode)

    def advance(s: float) -> None:
        c.store.clock.advance(s)
        if back_at is not None and c.store.clock() >= back_at:
            c.store.available = True

    c.east_db.stop = timed_stop  # type: ignore[method-assign]
    for agent in c.agents.values():
        agent.sleep = advance
    c.store.available = False
    return fenced


def test_etcd_unreachable_primary_fences_itself_before_the_lease_can_expire() -> None:
    c = Cluster()
    c.tick()
    c.tick()
    deadline = c.agents["east"].memory.lease_deadline_mono
    assert deadline is not None
    fenced = _outage(c, None)
    sequence = [c.tick() for _ in range(4)]
    assert all(s["west"] is Action.NONE for s in sequence)
    assert Action.FENCE in [s["east"] for s in sequence]
    # it rode the outage out as long as one more call and the fence still fit, then fenced
    (at,) = fenced
    last_call = TIMINGS.last_call_mono(deadline)
    assert last_call - 2 * RETRY_PAUSE_S <= at <= last_call
    assert "stop:immediate" in c.east_db.calls
    assert c.lb.state["east"].admin is AdminState.MAINT
    assert c.west_db.in_recovery is True  # nobody promoted without etcd
    assert any("etcd unreachable" in a for a in c.alerts)
    c.store.available = True
    c.tick()
    assert any("etcd answers again" in a for a in c.alerts)


def test_an_etcd_election_shorter_than_the_slack_does_not_fence_the_primary() -> None:
    c = Cluster()
    c.tick()
    c.tick()
    # the default timings' slack is 2 s (8 s lease, 6 s budget): an etcd election of 2 s
    fenced = _outage(c, 2.0)
    for _ in range(5):
        actions = c.tick()
        assert actions["east"] is Action.REFRESH
        assert actions["west"] is Action.FOLLOW
    assert fenced == [] and c.east_db.calls.count("stop:immediate") == 0
    assert c.leader() == "east" and c.east_db.in_recovery is False
    assert not any("fenced" in a for a in c.alerts)


def test_a_failing_tick_does_not_end_the_loop() -> None:
    c = Cluster()
    agent = c.agents["east"]
    calls = []
    original = agent.dcs.read

    def broken() -> ClusterView:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        stop.set()
        return original()

    stop = threading.Event()
    agent.dcs.read = broken  # type: ignore[method-assign]
    agent.timings = AgentTimings(0.01, 0.01, 8.0, 1, 2)
    agent.mono = time.monotonic
    agent.run(stop)
    assert len(calls) == 2


def test_leader_alerts_once_when_a_replica_stops_streaming() -> None:
    c = Cluster()
    c.tick()
    c.tick()
    c.west_db.upstream = None  # the WAL receiver stopped
    c.tick()
    c.tick()
    c.tick()
    stopped = [a for a in c.alerts if "replica west is not streaming" in a]
    assert len(stopped) == 1


def _sync_key(c: Cluster) -> object:
    sync = c.agents["witness"].dcs.read().sync
    return None if sync is None else (sync["leader"], sync["sync_standby"])


def test_synchronous_mode_leader_names_the_streaming_replica() -> None:
    c = Cluster()
    for agent in c.agents.values():
        agent.policy = replace(POLICY, synchronous=True)
    c.tick()  # east takes the lease
    c.tick()  # the sync key: none, before anything is named
    assert _sync_key(c) == ("east", None)
    c.tick()
    assert c.east_db.sync_names == ("west",)
    c.tick()
    assert _sync_key(c) == ("east", None)  # west is not reported synchronous yet
    c.east_db.standbys = {"west": "sync"}
    c.tick()
    assert _sync_key(c) == ("east", "west")
    c.west_db.upstream = None  # stops streaming: the primary must not wait for it
    c.east_db.standbys = {}
    c.tick()  # west publishes that it no longer streams
    c.tick()
    assert _sync_key(c) == ("east", None)  # out of the key first ...
    assert c.east_db.sync_names == ("west",)
    c.tick()
    assert c.east_db.sync_names == ()  # ... then out of synchronous_standby_names


def test_synchronous_mode_the_standby_named_in_the_sync_key_takes_over_after_a_restart() -> None:
    c = Cluster()
    for agent in c.agents.values():
        agent.policy = replace(POLICY, synchronous=True)
    c.east_db.standbys = {"west": "sync"}
    for _ in range(4):
        c.tick()
    assert _sync_key(c) == ("east", "west")
    # the leader's agent dies with its database; west's agent restarts with an empty memory
    east = c.agents.pop("east")
    east.dcs.close()
    c.east_db.running = False
    west = c.agents["west"]
    c.agents["west"] = replace(west, memory=Memory(leader_site="east"), last=None)
    seen = [c.tick()["west"] for _ in range(10)]
    assert Action.FAILOVER in seen
    assert c.west_db.in_recovery is False and c.leader() == "west"


def test_synchronous_mode_a_standby_the_sync_key_does_not_name_never_promotes() -> None:
    c = Cluster()
    for agent in c.agents.values():
        agent.policy = replace(POLICY, synchronous=True)
    c.east_db.standbys = {"west": "sync"}
    for _ in range(4):
        c.tick()
    c.agents["east"].dcs.set_sync("east", {"leader": "east", "sync_standby": "west2"})
    c.east_db.running = False
    seen = [c.tick()["west"] for _ in range(10)]
    assert Action.FAILOVER not in seen and c.west_db.in_recovery is True
    last = c.agents["west"].last
    assert last is not None
    assert "synchronous standby is west2 (sync key written by east)" in last.sentence


def test_synchronous_mode_without_a_sync_standby_does_not_fail_over() -> None:
    c = Cluster()
    for agent in c.agents.values():
        agent.policy = replace(POLICY, synchronous=True)
    c.tick()
    c.tick()
    c.east_db.running = False
    seen = [c.tick()["west"] for _ in range(5)]
    assert Action.FAILOVER not in seen  # memory replicas never report sync_state=sync
    assert c.west_db.in_recovery is True


def test_a_failed_failover_is_recorded_and_alerted() -> None:
    c = Cluster()

    def broken(old: str | None, new: str, reason: str) -> str:
        raise RuntimeError("dns.update refused")

    c.agents["west"].failover = broken
    c.tick()
    c.tick()
    c.east_db.running = False
    for _ in range(4):
        c.tick()
    view = c.agents["witness"].dcs.read()
    assert [h["note"] for h in view.history] == ["failed: dns.update refused"]
    assert any("failover east -> west failed: dns.update refused" in a for a in c.alerts)
    west = c.agents["west"].last
    assert west is not None and west.action is Action.ALERT  # anti-flapping: no retry storm
    assert "anti-flapping" in west.sentence


def test_leader_alerts_once_for_a_replica_that_never_streamed() -> None:
    c = Cluster()
    c.west_db.upstream = None  # its WAL receiver never connected, and its agent never ran
    del c.agents["west"]
    for _ in range(12):  # past one lease (8 s) of leading
        c.tick()
    never = [a for a in c.alerts if "replica west has never streamed" in a]
    assert len(never) == 1, c.alerts
