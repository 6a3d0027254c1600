"""rejoin(): rewind first, a fresh base backup when rewind fails; a replica is left alone."""

from __future__ import annotations

import pytest

from drkit.errors import UsageError
from drkit.ha.drivers.database.memory import MemoryDatabase
from drkit.ha.drivers.dcs.base import ClusterView, Leader
from drkit.ha.ops import leader_conninfo, rejoin
from drkit.settings.ha import HaSettings

HA = HaSettings.model_validate(
    {
        "cluster": "c",
        "etcd": {"endpoints": ["http://127.0.0.1:1"]},
        "sites": {
            "east": {"database": {"host": "127.0.0.2", "data_dir": "/a"}},
            "west": {
                "database": {"host": "127.0.0.3", "data_dir": "/b", "replication_user": "rep"}
            },
        },
    }
)


def test_fenced_old_primary_is_rewound() -> None:
    db = MemoryDatabase("east")
    db.running = False
    assert rejoin(db, "host=west") == "rewind"
    assert db.calls[0] == "rewind_from" and "reclone_from" not in db.calls
    assert db.in_recovery and db.upstream == "host=west"


def test_running_old_primary_is_stopped_first() -> None:
    db = MemoryDatabase("east")
    assert rejoin(db, "host=west") == "rewind"
    assert db.calls[:2] == ["stop:fast", "rewind_from"]


def test_rewind_failure_falls_back_to_a_base_backup() -> None:
    db = MemoryDatabase("east")
    db.running = False
    db.fail_next = "pg_rewind: could not find common ancestor"
    assert rejoin(db, "host=west") == "reclone"
    assert db.calls[:2] == ["rewind_from", "reclone_from"] and db.in_recovery


def test_replica_is_left_alone() -> None:
    db = MemoryDatabase("east", in_recovery=True)
    db.upstream = "host=west"  # streaming from the primary
    assert rejoin(db, "host=west") == "replica already" and db.calls == []


def test_an_old_primary_fenced_read_only_streams_from_nobody_and_is_rewound() -> None:
    db = MemoryDatabase("east", in_recovery=True)  # demoted by the fence, no upstream
    assert rejoin(db, "host=west") == "rewind"
    assert db.upstream == "host=west"


def test_a_diverged_replica_is_rewound_even_when_it_streams() -> None:
    db = MemoryDatabase("east", in_recovery=True)
    db.upstream = "host=west"
    assert rejoin(db, "host=west", diverged=True) == "rewind"


def test_leader_conninfo() -> None:
    view = ClusterView("c", 1, leader=Leader("west", "1", 1))
    assert leader_conninfo(HA, view, "east") == (
        "host=127.0.0.3 port=5432 user=rep application_name=east"
    )
    with pytest.raises(UsageError, match="east is the primary"):
        leader_conninfo(HA, ClusterView("c", 1, leader=Leader("east", "1", 1)), "east")
    with pytest.raises(UsageError, match="no site leads"):
        leader_conninfo(HA, ClusterView("c", 1), "east")
