"""The lease loop over an in-memory store and a fake clock: takeover, fencing, marks."""

from __future__ import annotations

from drkit.controlplane.decide import Role, RoleDecision
from drkit.controlplane.lease import LeaseKeeper
from drkit.controlplane.store import MemoryLeaseStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def keeper(store: MemoryLeaseStore, name: str, clock: Clock) -> tuple[LeaseKeeper, list[str]]:
    changes: list[str] = []

    def changed(before: RoleDecision, after: RoleDecision) -> None:
        changes.append(f"{before.role.value}->{after.role.value}")

    k = LeaseKeeper(store, name, ttl_s=10, margin_s=1, interval_s=1, on_change=changed, clock=clock)
    return k, changes


def test_the_first_taker_is_active_the_other_standby() -> None:
    store, clock = MemoryLeaseStore(ttl_s=10), Clock()
    east, east_changes = keeper(store, "east", clock)
    west, _ = keeper(store, "west", clock)
    assert east.role() is Role.FENCED and not east.may_start()  # before the first cycle
    east.cycle()
    west.cycle()
    assert (east.role(), west.role()) == (Role.ACTIVE, Role.STANDBY)
    assert east.may_start() and not west.may_start()
    assert "east is active" in west.reason()
    assert east_changes == ["fenced->active"]


def test_a_holder_frozen_past_its_horizon_starts_nothing_before_its_next_cycle() -> None:
    store, clock = MemoryLeaseStore(ttl_s=10), Clock()
    east, _ = keeper(store, "east", clock)
    east.cycle()
    clock.now += 8.9
    assert east.may_start()
    clock.now += 0.2  # 9.1 s after the renewal: past ttl - margin, with no cycle in between
    assert not east.may_start()
    assert east.role() is Role.FENCED
    assert east.trusted_for_s() == 0.0


def test_etcd_down_fences_the_holder_and_marks_the_change() -> None:
    store, clock = MemoryLeaseStore(ttl_s=10), Clock()
    east, changes = keeper(store, "east", clock)
    east.cycle()
    store.down = True
    clock.now += 1
    decision = east.cycle()
    assert decision.role is Role.FENCED and not east.may_start()
    assert "cannot renew the lease" in decision.reason
    assert not east.etcd_up
    assert changes == ["fenced->active", "active->fenced"]


def test_the_standby_takes_over_when_the_lease_expires() -> None:
    store, clock = MemoryLeaseStore(ttl_s=10), Clock()
    east, _ = keeper(store, "east", clock)
    west, west_changes = keeper(store, "west", clock)
    east.cycle()
    west.cycle()
    store.expires = 0.0  # east stopped renewing: its lease ran out in the store
    west.cycle()
    assert west.role() is Role.ACTIVE
    east.cycle()
    assert east.role() is Role.STANDBY
    assert "lost the lease: west is active" in east.reason()
    assert west_changes == ["fenced->standby", "standby->active"]


def test_a_failing_store_is_a_fenced_cycle_not_a_dead_loop() -> None:
    class Broken(MemoryLeaseStore):
        def take(self, name: str) -> object:  # type: ignore[override]
            raise RuntimeError("bug")

    east, _ = keeper(Broken(ttl_s=10), "east", Clock())
    assert east.cycle().role is Role.FENCED
    assert "RuntimeError: bug" in east.reason()


def test_stop_releases_a_held_lease_for_the_other_serve() -> None:
    store, clock = MemoryLeaseStore(ttl_s=10), Clock()
    east, _ = keeper(store, "east", clock)
    west, _ = keeper(store, "west", clock)
    east.cycle()
    east.stop()
    assert store.holder is None
    assert west.cycle().role is Role.ACTIVE
