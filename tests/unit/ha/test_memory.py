"""What an agent remembers of the leader between cycles (gather.Memory)."""

from __future__ import annotations

from drkit.ha.drivers.dcs.base import ClusterView, Leader
from drkit.ha.gather import Memory, member_record


def _view(record: dict[str, object]) -> ClusterView:
    return ClusterView(
        cluster="c",
        revision=1,
        leader=Leader("east", "1", 1),
        published={"member": {"east": record}},
    )


def test_the_sync_standby_survives_the_leaders_database_dying() -> None:
    memory = Memory()
    alive = {"role": "primary", "lsn": 10, "replicas": {"west": {"sync_state": "sync"}}}
    memory.remember(_view(alive), now=1.0)
    assert memory.sync_standby == "west"
    dead = member_record(None, healthy=False, now=2.0)  # what the leader publishes then
    memory.remember(_view(dead), now=2.0)
    assert memory.sync_standby == "west" and memory.leader_lsn == 10


def test_a_reachable_leader_without_a_sync_standby_clears_it() -> None:
    memory = Memory(sync_standby="west")
    memory.remember(_view({"role": "primary", "lsn": 11, "replicas": {}}), now=1.0)
    assert memory.sync_standby is None
