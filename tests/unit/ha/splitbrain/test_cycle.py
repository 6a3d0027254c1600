"""split_brain_cycle(): the composed cycle over memory drivers and a memory DCS."""

from __future__ import annotations

from drkit.ha.drivers.database.memory import MemoryDatabase
from drkit.ha.drivers.dcs.memory import MemoryDCS, MemoryStore
from drkit.ha.splitbrain.audit import ManualAction, entry, record_action
from drkit.ha.splitbrain.cycle import split_brain_cycle
from drkit.ha.splitbrain.detect import Kind
from drkit.ha.splitbrain.gather import REACH_KIND, Parts
from drkit.ha.splitbrain.resolve import Outcome

SITES = ("east", "west")


def _parts(west_writable: bool) -> Parts:
    return Parts(
        sites=SITES,
        witnesses=("witness",),
        databases={
            "east": MemoryDatabase("east"),
            "west": MemoryDatabase("west", in_recovery=not west_writable),
        },
    )


def test_a_promoted_replica_in_a_minority_fences_and_the_state_is_detected() -> None:
    store = MemoryStore()
    east, west = MemoryDCS(store, "pg"), MemoryDCS(store, "pg")
    assert east.acquire_leader("east")
    east.publish("east", REACH_KIND, {"reaches": {"west": False, "witness": True, "etcd": True}})
    view = west.read()
    got = split_brain_cycle(
        _parts(True),
        view,
        "west",
        {"east": False, "witness": False, "etcd": True},
        1.0,
        leader="east",
    )
    assert [(s.kind, s.subject) for s in got.states] == [
        (Kind.TWO_PRIMARIES, "east+west"),
        (Kind.UNREACHABLE_IN_ETCD, "east"),  # west cannot reach east, east is in etcd
        (Kind.UNREACHABLE_IN_ETCD, "west"),  # and the other way round
    ]
    assert got.resolution.outcome is Outcome.FENCE
    assert "minority (1 of 3" in got.resolution.sentence
    assert got.reach_row["reaches"] == {"east": False, "witness": False, "etcd": True}

    healthy = split_brain_cycle(
        _parts(False), view, "west", {"east": True, "witness": True}, 1.0, leader="east"
    )
    assert healthy.states == () and healthy.resolution.outcome is Outcome.NOTHING


def test_an_override_in_the_history_is_applied() -> None:
    store = MemoryStore()
    dcs = MemoryDCS(store, "pg")
    assert dcs.acquire_leader("east")
    auto = split_brain_cycle(_parts(True), dcs.read(), "west", {}, 1.0, leader="east").resolution
    assert auto.outcome is Outcome.FENCE
    record_action(
        dcs,
        entry(
            ManualAction.OVERRIDE, who="alice", at=2.0, reason="drill", automatic=auto, site="west"
        ),
    )
    got = split_brain_cycle(_parts(True), dcs.read(), "west", {}, 3.0, leader="east")
    assert got.resolution.outcome is Outcome.KEEP_PRIMARY
    assert got.resolution.warning  # against the quorum: west reaches nobody
