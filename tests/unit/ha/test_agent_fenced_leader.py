"""The agent on memory drivers: a lease holder that fenced itself hands over or resumes.

As the split-brain fence leaves it: east's database demoted to a read-only standby (still
up: the observers' probes still see it), the agent's memory fenced, the lease still east's.
"""

from __future__ import annotations

from drkit.ha.decide import Action
from drkit.ha.drivers.loadbalancer.base import AdminState
from tests.unit.ha.test_agent import Cluster


def _fenced_east(c: Cluster) -> None:
    c.tick()
    c.tick()
    assert c.leader() == "east"
    c.east_db.in_recovery = True  # demoted by the fence, kept up
    c.agents["east"].memory.fenced = True
    c.lb.set_state("east", AdminState.MAINT)


def test_the_fenced_holder_hands_over_and_west_fails_over_once() -> None:
    c = Cluster()
    _fenced_east(c)
    first = c.tick()
    assert first["east"] is Action.RESIGN
    assert c.agents["witness"].dcs.read().members["east"]["fenced"] is True
    seen = [c.tick() for _ in range(3)]
    assert [s["west"] for s in [first, *seen]].count(Action.FAILOVER) == 1
    assert all(s["east"] is not Action.FAILOVER for s in [first, *seen])
    assert c.leader() == "west" and c.west_db.in_recovery is False
    history = c.agents["witness"].dcs.read().history
    assert [(h["from"], h["to"]) for h in history] == [("east", "west")]
    assert seen[-1]["east"] is Action.FOLLOW
    assert c.agents["east"].memory.fenced is False  # following west: a rejoin's business now


def test_the_fenced_holder_resumes_inside_the_anti_flapping_period() -> None:
    c = Cluster()
    _fenced_east(c)
    record = {
        "at": c.store.clock(),
        "from": "west",
        "to": "east",
        "reason": "x",
        "kind": "failover",
    }
    c.agents["east"].dcs.append_history(record)
    assert c.tick()["east"] is Action.RESUME
    assert c.east_db.in_recovery is False
    assert c.lb.state["east"].admin is AdminState.READY
    assert c.leader() == "east"
    assert len(c.agents["witness"].dcs.read().history) == 1  # no failover recorded
    assert any("resuming as primary" in a and "anti-flapping" in a for a in c.alerts), c.alerts
    assert c.tick()["east"] is Action.REFRESH
    assert "fenced" not in c.agents["witness"].dcs.read().members["east"]
