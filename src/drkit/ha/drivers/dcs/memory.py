"""An in-process DCS with a controllable clock, for unit tests of the agent's logic.

Clients built on the same :class:`MemoryStore` contend for one leader key, as
agents on one etcd would. ``store.clock.advance(s)`` lets leases expire
without sleeping; ``store.available = False`` makes every call raise
:class:`DCSUnavailable`, like an etcd without quorum.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from typing import Literal

from drkit.ha.drivers.dcs.base import (
    DCS,
    ClusterView,
    DcsSettingsBase,
    Leader,
    Record,
    check_kind,
    check_site,
)
from drkit.ha.drivers.errors import DCSUnavailable
from drkit.plugins import Plugin


class FakeClock:
    """Monotonic seconds that move only when told."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class _Entry:
    value: Record
    lease: int | None
    create_revision: int
    mod_revision: int


@dataclass
class MemoryStore:
    """The shared state of one in-memory "etcd": keys, leases, a revision counter."""

    clock: FakeClock = field(default_factory=FakeClock)
    available: bool = True
    revision: int = 1
    keys: dict[str, _Entry] = field(default_factory=dict)
    leases: dict[int, float] = field(default_factory=dict)  # id -> expiry time
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def check(self) -> None:
        if not self.available:
            raise DCSUnavailable("the memory DCS is marked unavailable")
        self.expire()

    def expire(self) -> None:
        now = self.clock()
        dead = {lease for lease, expiry in self.leases.items() if expiry <= now}
        for lease in dead:
            self.revoke(lease)

    def revoke(self, lease: int) -> None:
        self.leases.pop(lease, None)
        for key in [k for k, e in self.keys.items() if e.lease == lease]:
            del self.keys[key]
            self.revision += 1

    def grant(self, ttl: float) -> int:
        lease = next(self._ids)
        self.leases[lease] = self.clock() + ttl
        return lease

    def put(self, key: str, value: Record, lease: int | None) -> None:
        self.revision += 1
        frozen = json.loads(json.dumps(value))  # JSON only, as etcd stores it
        old = self.keys.get(key)
        created = old.create_revision if old else self.revision
        self.keys[key] = _Entry(frozen, lease, created, self.revision)


STORES: dict[str, MemoryStore] = {}
"""Named stores for drivers built from settings (``store: NAME``)."""


class MemoryDcsSettings(DcsSettingsBase):
    type: Literal["memory"] = "memory"
    store: str = "default"


class MemoryDCS(DCS):
    def __init__(self, store: MemoryStore, cluster: str, ttl_s: int = 10) -> None:
        self.store = store
        self.cluster = cluster
        self.ttl_s = ttl_s
        self.prefix = f"/drkit/{cluster}/"
        self.lease: int | None = None

    def _alive_lease(self) -> int:
        self.store.check()
        if self.lease is not None and self.lease in self.store.leases:
            self.store.leases[self.lease] = self.store.clock() + self.ttl_s
            return self.lease
        self.lease = self.store.grant(self.ttl_s)
        return self.lease

    def read(self) -> ClusterView:
        self.store.check()
        published: dict[str, dict[str, Record]] = {}
        history: list[tuple[int, Record]] = []
        leader = pause = config = sync = None
        config_revision = 0
        for key, entry in self.store.keys.items():
            if not key.startswith(self.prefix):
                continue
            rest = key[len(self.prefix) :]
            value = copy.deepcopy(entry.value)
            if rest == "leader" and entry.lease is not None:
                expiry = self.store.leases[entry.lease] - self.store.clock()
                site = str(value.get("site"))
                leader = Leader(site, str(entry.lease), entry.mod_revision, expiry)
            elif rest == "pause":
                pause = value
            elif rest == "sync":
                sync = value
            elif rest == "config":
                config, config_revision = value, entry.mod_revision
            elif rest.startswith("history/"):
                history.append((entry.create_revision, value))
            elif "/" in rest:
                kind, site = rest.split("/", 1)
                published.setdefault(kind, {})[site] = value
        return ClusterView(
            cluster=self.cluster,
            revision=self.store.revision,
            leader=leader,
            published=published,
            pause=pause,
            history=tuple(v for _, v in sorted(history, key=lambda item: item[0])),
            config=config,
            config_revision=config_revision,
            sync=sync,
        )

    def _leader_entry(self) -> _Entry | None:
        return self.store.keys.get(self.prefix + "leader")

    def acquire_leader(self, site: str) -> bool:
        check_site(site)
        lease = self._alive_lease()
        entry = self._leader_entry()
        if entry is None:
            self.store.put(self.prefix + "leader", {"site": site}, lease)
            return True
        return entry.lease == lease and entry.value.get("site") == site

    def refresh_leader(self, site: str) -> bool:
        lease = self._alive_lease()
        entry = self._leader_entry()
        return entry is not None and entry.lease == lease and entry.value.get("site") == site

    def release_leader(self, site: str) -> None:
        self.store.check()
        entry = self._leader_entry()
        if entry is not None and entry.lease == self.lease and entry.value.get("site") == site:
            del self.store.keys[self.prefix + "leader"]
            self.store.revision += 1

    def set_sync(self, site: str, record: Record) -> bool:
        self.store.check()
        entry = self._leader_entry()
        if entry is None or entry.lease != self.lease or entry.value.get("site") != site:
            return False
        self.store.put(self.prefix + "sync", record, None)
        return True

    def publish(self, site: str, kind: str, payload: Record) -> None:
        check_kind(kind)
        check_site(site)
        lease = self._alive_lease()
        self.store.put(f"{self.prefix}{kind}/{site}", payload, lease)

    def set_pause(self, record: Record | None) -> None:
        self.store.check()
        if record is None:
            if self.store.keys.pop(self.prefix + "pause", None) is not None:
                self.store.revision += 1
        else:
            self.store.put(self.prefix + "pause", record, None)

    def append_history(self, record: Record) -> None:
        self.store.check()
        self.store.put(f"{self.prefix}history/{self.store.revision + 1:020d}", record, None)

    def set_config(self, config: Record, *, expected_revision: int) -> bool:
        self.store.check()
        entry = self.store.keys.get(self.prefix + "config")
        if (entry.mod_revision if entry else 0) != expected_revision:
            return False
        self.store.put(self.prefix + "config", config, None)
        return True

    def close(self) -> None:
        if self.lease is not None and self.store.available:
            self.store.revoke(self.lease)
        self.lease = None


def _build(settings: MemoryDcsSettings) -> MemoryDCS:
    store = STORES.setdefault(settings.store, MemoryStore())
    return MemoryDCS(store, settings.cluster, settings.ttl_s)


PLUGIN = Plugin("memory", MemoryDcsSettings, _build, "in-process store for tests")
