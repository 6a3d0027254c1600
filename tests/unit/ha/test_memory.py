"""What an agent remembers of the leader between cycles (gather.Memory), and the sync key."""

from __future__ import annotations

from drkit.ha.drivers.dcs.base import ClusterView, Leader
from drkit.ha.gather import Memory, member_record, sync_key
from drkit.ha.model import SyncKey


def _view(record: dict[str, object], sync: dict[str, object] | None = None) -> ClusterView:
    return ClusterView(
        cluster="c",
        revision=1,
        leader=Leader("east", "1", 1),
        published={"member": {"east": record}},
        sync=sync,
    )


def test_the_leaders_lsn_survives_its_database_dying() -> None:
    memory = Memory()
    memory.remember(_view({"role": "primary", "lsn": 10}), now=1.0)
    dead = member_record(None, healthy=False, now=2.0)  # what the leader publishes then
    memory.remember(_view(dead), now=2.0)
    assert memory.leader_lsn == 10 and memory.leader_site == "east"


def test_the_sync_standby_is_etcds_sync_key_not_the_leaders_record() -> None:
    alive = {"role": "primary", "lsn": 10, "replicas": {"west": {"sync_state": "sync"}}}
    assert sync_key(_view(alive)) is None  # pg_stat_replication alone names nobody
    keyed = _view(alive, {"leader": "east", "sync_standby": "west", "at": 1.0})
    assert sync_key(keyed) == SyncKey("east", "west")
    none = _view(alive, {"leader": "east", "sync_standby": None})
    assert sync_key(none) == SyncKey("east", None)
    assert sync_key(_view(alive, {"garbage": 1})) is None
