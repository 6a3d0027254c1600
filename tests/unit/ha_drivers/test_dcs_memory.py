"""The memory DCS passes the DCS contract; its clock and outage switch work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drkit.ha.drivers.dcs.base import DCS
from drkit.ha.drivers.dcs.memory import MemoryDCS, MemoryDcsSettings, MemoryStore
from drkit.ha.drivers.dcs.registry import DCS_DRIVERS
from drkit.ha.drivers.errors import DCSUnavailable
from tests.unit.ha_drivers.contract_dcs import DCSContract, Make


class TestMemoryDCS(DCSContract):
    @pytest.fixture
    def store(self) -> MemoryStore:
        return MemoryStore()

    @pytest.fixture
    def make(self, store: MemoryStore) -> Iterator[Make]:
        yield lambda: MemoryDCS(store, "c1", ttl_s=10)

    def expire(self, dcs: DCS) -> None:
        assert isinstance(dcs, MemoryDCS)
        dcs.store.clock.advance(dcs.ttl_s + 0.1)


def test_lease_lives_while_refreshed() -> None:
    store = MemoryStore()
    a, b = MemoryDCS(store, "c", 10), MemoryDCS(store, "c", 10)
    assert a.acquire_leader("east")
    for _ in range(5):
        store.clock.advance(6)
        assert a.refresh_leader("east")
    store.clock.advance(9.9)
    assert b.acquire_leader("west") is False
    store.clock.advance(0.2)
    assert b.acquire_leader("west") is True


def test_unavailable_raises_on_every_call() -> None:
    store = MemoryStore()
    dcs = MemoryDCS(store, "c", 10)
    store.available = False
    for call in (dcs.read, lambda: dcs.acquire_leader("e"), lambda: dcs.refresh_leader("e")):
        with pytest.raises(DCSUnavailable):
            call()
    dcs.close()  # never raises


def test_clusters_do_not_see_each_other() -> None:
    store = MemoryStore()
    assert MemoryDCS(store, "one").acquire_leader("east")
    assert MemoryDCS(store, "two").read().leader is None


def test_registry_builds_memory_from_settings() -> None:
    settings = DCS_DRIVERS.parse({"type": "memory", "cluster": "c", "ttl_s": 5})
    assert isinstance(settings, MemoryDcsSettings)
    dcs = DCS_DRIVERS.build(settings)
    assert isinstance(dcs, MemoryDCS) and dcs.ttl_s == 5
