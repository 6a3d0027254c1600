"""The DCS contract, as one test suite every DCS driver must pass.

A driver's test module subclasses :class:`DCSContract` and provides:
``make`` (a fixture: a factory of clients on ONE fresh cluster, so two clients
contend like two agents) and :meth:`DCSContract.expire` (let every lease made
so far run out: advance a fake clock, or sleep past the TTL).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from drkit.ha.drivers.dcs.base import DCS

Make = Callable[[], DCS]


class DCSContract:
    def expire(self, dcs: DCS) -> None:
        raise NotImplementedError

    def test_empty_cluster_reads_empty(self, make: Make) -> None:
        view = make().read()
        assert view.leader is None
        assert view.members == {} and view.observations == {}
        assert view.pause is None and view.history == () and view.config is None

    def test_exactly_one_of_two_acquires(self, make: Make) -> None:
        a, b = make(), make()
        assert a.acquire_leader("east") is True
        assert b.acquire_leader("west") is False
        leader = b.read().leader
        assert leader is not None and leader.site == "east"
        assert a.acquire_leader("east") is True  # ours already: still True
        assert b.refresh_leader("west") is False
        assert b.refresh_leader("east") is False  # right name, not our lease

    def test_refresh_keeps_it_and_release_frees_it(self, make: Make) -> None:
        a, b = make(), make()
        assert a.acquire_leader("east")
        assert a.refresh_leader("east") is True
        a.release_leader("west")  # not west's: no-op
        assert b.read().leader is not None
        a.release_leader("east")
        assert b.read().leader is None
        assert a.refresh_leader("east") is False  # never re-creates
        assert b.acquire_leader("west") is True

    def test_leader_lease_expires_and_other_takes_over(self, make: Make) -> None:
        a, b = make(), make()
        assert a.acquire_leader("east")
        a.publish("east", "member", {"role": "primary"})
        self.expire(a)
        view = b.read()
        assert view.leader is None
        assert "east" not in view.members
        assert b.acquire_leader("west") is True
        assert a.refresh_leader("east") is False
        leader = a.read().leader
        assert leader is not None and leader.site == "west"

    def test_leader_shows_remaining_ttl(self, make: Make) -> None:
        a = make()
        a.acquire_leader("east")
        leader = a.read().leader
        assert leader is not None and leader.lease
        assert leader.expires_in_s is not None and 0 < leader.expires_in_s <= a.ttl_s

    def test_publish_replaces_and_is_per_kind_and_site(self, make: Make) -> None:
        a, b = make(), make()
        a.publish("east", "observation", {"west": "down"})
        a.publish("east", "observation", {"west": "up", "n": 2})
        b.publish("west", "member", {"lsn": 12})
        view = b.read()
        assert view.observations == {"east": {"west": "up", "n": 2}}
        assert view.members == {"west": {"lsn": 12}}

    def test_snapshot_is_a_copy(self, make: Make) -> None:
        a = make()
        a.publish("east", "member", {"x": [1]})
        view = a.read()
        view.members["east"]["x"].append(2)
        assert a.read().members["east"] == {"x": [1]}

    def test_bad_kind_is_refused(self, make: Make) -> None:
        with pytest.raises(ValueError):
            make().publish("east", "leader", {})

    def test_pause_set_and_cleared(self, make: Make) -> None:
        a, b = make(), make()
        a.set_pause({"by": "alice", "why": "maintenance"})
        assert b.read().pause == {"by": "alice", "why": "maintenance"}
        a.set_pause(None)
        assert b.read().pause is None
        a.set_pause(None)  # idempotent

    def test_pause_and_history_outlive_the_lease(self, make: Make) -> None:
        a, b = make(), make()
        a.set_pause({"by": "bob"})
        a.append_history({"n": 1})
        self.expire(a)
        view = b.read()
        assert view.pause == {"by": "bob"}
        assert view.history == ({"n": 1},)

    def test_only_the_leader_writes_the_sync_key_and_it_outlives_the_lease(
        self, make: Make
    ) -> None:
        a, b = make(), make()
        assert a.read().sync is None
        assert a.set_sync("east", {"leader": "east", "sync_standby": "west"}) is False
        assert a.acquire_leader("east")
        assert b.set_sync("east", {"leader": "east", "sync_standby": "b"}) is False  # not b's
        assert a.set_sync("west", {"leader": "west", "sync_standby": "a"}) is False
        assert a.set_sync("east", {"leader": "east", "sync_standby": "west"}) is True
        self.expire(a)
        view = b.read()
        assert view.leader is None
        assert view.sync == {"leader": "east", "sync_standby": "west"}

    def test_history_keeps_order(self, make: Make) -> None:
        a, b = make(), make()
        for n in range(5):
            (a if n % 2 else b).append_history({"n": n})
        assert [r["n"] for r in a.read().history] == [0, 1, 2, 3, 4]

    def test_config_compare_and_set(self, make: Make) -> None:
        a, b = make(), make()
        assert a.set_config({"ttl": 10}, expected_revision=0) is True
        view = b.read()
        assert view.config == {"ttl": 10} and view.config_revision > 0
        assert b.set_config({"ttl": 20}, expected_revision=0) is False
        assert a.set_config({"ttl": 30}, expected_revision=view.config_revision) is True
        assert b.set_config({"ttl": 40}, expected_revision=view.config_revision) is False
        assert b.read().config == {"ttl": 30}

    def test_close_revokes_at_once(self, make: Make) -> None:
        a, b = make(), make()
        a.acquire_leader("east")
        a.publish("east", "member", {})
        a.close()
        view = b.read()
        assert view.leader is None and view.members == {}
        a.close()  # twice is fine

    def test_revision_grows_with_writes(self, make: Make) -> None:
        a = make()
        before = a.read().revision
        a.publish("east", "member", {})
        assert a.read().revision > before
