"""The agent loop with its split-brain watch, on memory drivers: quorum fencing, reach rows,
a hand-made second primary, alerts reported, metrics."""

from __future__ import annotations

from collections.abc import Sequence

from drkit.ha.agent.splitbrain import SplitBrainWatch
from drkit.ha.decide import Action
from drkit.ha.drivers.loadbalancer.base import AdminState
from drkit.ha.splitbrain.detect import Kind, SplitBrainState
from drkit.ha.splitbrain.gather import REACH_KIND, Parts
from tests.unit.ha.test_agent import Cluster, DbProbe


def watched() -> tuple[Cluster, dict[str, list[tuple[str, ...]]]]:
    c = Cluster()
    reports: dict[str, list[tuple[str, ...]]] = {}
    dbs = {"east": c.east_db, "west": c.west_db}
    for site, agent in c.agents.items():
        seen: list[tuple[str, ...]] = []
        reports[site] = seen

        def report(states: Sequence[SplitBrainState], now: float, seen: list = seen) -> None:  # type: ignore[type-arg]
            seen.append(tuple(s.kind.value for s in states))

        agent.split = SplitBrainWatch(
            "c",
            site,
            Parts(sites=("east", "west"), witnesses=("witness",), databases=dbs),
            report=report,
        )
    return c, reports


def cut_off(c: Cluster, site: str) -> None:
    """``site`` neither reaches nor is reached by the others (etcd still answers all)."""
    for name, agent in c.agents.items():
        for target, probe in agent.peers.items():
            assert isinstance(probe, DbProbe)
            probe.cut = site in (name, target)


def test_reach_rows_are_published_and_a_healthy_cluster_stays_put() -> None:
    c, reports = watched()
    for _ in range(3):
        actions = c.tick()
    assert actions == {"east": Action.REFRESH, "west": Action.FOLLOW, "witness": Action.NONE}
    rows = c.agents["witness"].dcs.read().of_kind(REACH_KIND)
    assert rows["witness"]["reaches"] == {"east": True, "west": True, "etcd": True}
    assert rows["east"]["reaches"]["witness"] is True  # from the witness's own row
    for agent in c.agents.values():
        assert agent.split is not None
        agent.split.wait_reported()
    assert reports["east"][-1] == ()
    metrics = c.agents["east"].split.metrics()  # type: ignore[union-attr]
    assert 'drkit_ha_split_brain{cluster="c",site="east",state="two-primaries"} 0' in metrics
    assert 'drkit_ha_split_brain_votes{cluster="c",site="east"} 3' in metrics


def test_isolated_primary_that_still_reaches_etcd_fences_and_releases_at_once() -> None:
    c, _ = watched()
    for _ in range(3):
        c.tick()
    cut_off(c, "east")
    seen, plans = [], []
    for _ in range(4):
        seen.append(c.tick())
        plans.append(c.agents["east"].last_plan)
    east = [s["east"] for s in seen]
    # fall=2: west is down for east after its second failed probe; the witness (no probe
    # of its own) counts through its published row, one cycle later: released at the third
    assert east[:3] == [Action.REFRESH, Action.REFRESH, Action.RELEASE]
    released = plans[2]
    assert released is not None and released.by == "split-brain"
    assert "minority (1 of 3 votes)" in released.decision.sentence
    assert c.east_db.in_recovery is True  # demoted read-only, not stopped
    assert c.lb.state["east"].admin is AdminState.MAINT
    assert [s["west"] for s in seen].count(Action.FAILOVER) == 1
    assert c.leader() == "west" and c.west_db.in_recovery is False


def test_split_brain_fences_only_writable_sides_and_never_promotes() -> None:
    c, _ = watched()
    for _ in range(3):
        c.tick()
    cut_off(c, "west")  # the replica alone: it has no majority but nothing to fence
    for _ in range(4):
        actions = c.tick()
    assert actions["west"] is Action.FOLLOW
    assert c.west_db.in_recovery is True and "demote" not in " ".join(c.west_db.calls)
    assert c.leader() == "east"


def test_replica_promoted_by_hand_is_detected_reported_and_fenced() -> None:
    c, reports = watched()
    for _ in range(3):
        c.tick()
    c.west_db.in_recovery = False  # promoted behind the agents' back
    actions = c.tick()
    assert actions["west"] is Action.FENCE
    assert c.agents["west"].last_plan is not None
    assert c.agents["west"].last_plan.by == "split-brain"
    for agent in c.agents.values():
        assert agent.split is not None
        agent.split.wait_reported()
    # east ticked before west fenced itself: it saw both writable (the witness, after, did not)
    assert Kind.TWO_PRIMARIES.value in reports["east"][-1]
    assert c.west_db.in_recovery is True  # back to read-only
    c.tick()
    for agent in c.agents.values():
        assert agent.split is not None
        agent.split.wait_reported()
    assert reports["east"][-1] == ()  # healed: resolved
    assert c.leader() == "east" and c.east_db.in_recovery is False


def _record(c: Cluster, action: str, site: str | None) -> None:
    from drkit.ha.splitbrain.audit import ManualAction, entry, record_action
    from drkit.ha.splitbrain.resolve import Outcome, Resolution

    item = entry(
        ManualAction(action),
        who="alice",
        at=c.store.clock(),
        reason="drill",
        automatic=Resolution(Outcome.NOTHING, "n/a"),
        site=site,
    )
    record_action(c.agents["witness"].dcs, item)


def test_override_moves_the_primary_and_a_hand_fence_keeps_a_site_out() -> None:
    c, _ = watched()
    for _ in range(3):
        c.tick()
    _record(c, "override", "west")
    for _ in range(4):
        c.tick()
    assert c.leader() == "west" and c.west_db.in_recovery is False
    assert c.east_db.in_recovery is True  # demoted by the override, not by a failure
    _record(c, "lift-override", None)
    _record(c, "fence", "west")
    for _ in range(3):
        actions = c.tick()
    assert c.west_db.in_recovery is True  # fenced by hand: read-only, and the lease let go
    assert actions["west"] is not Action.FAILOVER and c.leader() != "west"


def test_a_primary_back_from_a_stall_does_not_fence_on_rows_from_the_stall() -> None:
    """East's agent and database stop for a moment: the others' rows, written meanwhile, say
    east is unreachable. East, back with its lease alive, waits for them to see it again."""
    import time

    from drkit.ha.agent import AgentTimings

    c, _ = watched()
    for _ in range(3):
        c.tick()
    east = c.agents["east"]
    east.timings = AgentTimings(0.01, 0.01, 8.0, 1, 2, dcs_timeout_s=0.01)  # a short stall
    east.tick()  # its last cycle before the stall
    for name in ("west", "witness"):
        for target, probe in c.agents[name].peers.items():
            assert isinstance(probe, DbProbe)
            probe.cut = target == "east"  # east does not answer while it is stopped
    for _ in range(2):  # the others go on; east's lease (8 s) outlives the 2 s
        for name in ("west", "witness"):
            c.agents[name].tick()
        c.store.clock.advance(1.0)
    rows = c.agents["west"].dcs.read().of_kind(REACH_KIND)
    assert rows["west"]["reaches"]["east"] is False and rows["witness"]["reaches"]["east"] is False
    time.sleep(0.6)  # past east's stall threshold (0.54 s at these timings)
    for name in ("west", "witness"):
        for probe in c.agents[name].peers.values():
            assert isinstance(probe, DbProbe)
            probe.cut = False  # east answers again
    first = c.tick()
    assert first["east"] is Action.REFRESH, east.last_plan
    assert c.east_db.in_recovery is False  # still the primary
    for _ in range(3):
        assert c.tick()["east"] is Action.REFRESH
    assert c.leader() == "east" and c.west_db.in_recovery is True
