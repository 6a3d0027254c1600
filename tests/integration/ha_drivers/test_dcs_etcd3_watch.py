"""The leader-key watch against a real etcd: a take-over, a release, an expired lease, a member
that dies under the stream; each wakes the watcher, and a quiet key wakes nobody."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from drkit.ha.drivers.dcs.etcd3 import Etcd3DCS, Etcd3Settings, build
from tests.fixtures.etcd import EtcdCluster, etcd, etcd_cluster  # noqa: F401

WAIT_S = 20.0
"""Generous: a missed wake-up fails by never coming, not by being slow."""


class Wakes:
    def __init__(self) -> None:
        self.count = 0
        self.event = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    def wait(self) -> bool:
        woke = self.event.wait(WAIT_S)
        self.event.clear()
        return woke


def _dcs(endpoints: list[str], cluster: str, ttl: int = 8) -> Etcd3DCS:
    return build(
        Etcd3Settings(
            cluster=cluster, ttl_s=ttl, endpoints=endpoints, request_timeout_s=1.0,
            retry_timeout_s=4.0,
        )
    )  # fmt: skip


@pytest.fixture
def pair(etcd_cluster: EtcdCluster) -> Iterator[tuple[Etcd3DCS, Etcd3DCS]]:  # noqa: F811
    cluster = f"w{uuid.uuid4().hex[:10]}"
    a, b = _dcs(etcd_cluster.endpoints, cluster), _dcs(etcd_cluster.endpoints, cluster, ttl=2)
    yield a, b
    a.close()
    b.close()


def test_each_change_of_the_leader_key_wakes_the_watcher(
    pair: tuple[Etcd3DCS, Etcd3DCS],
) -> None:
    watcher, holder = pair
    wakes = Wakes()
    stop = watcher.watch_leader(wakes)
    try:
        watcher.read()  # the watch stream is up once a read went through the same client
        assert holder.acquire_leader("east")
        assert wakes.wait(), "taking the lease woke nobody"
        holder.release_leader("east")
        assert wakes.wait(), "releasing the lease woke nobody"
        assert holder.acquire_leader("east")
        assert wakes.wait()
        seen = wakes.count
        assert holder.refresh_leader("east")  # a keep-alive changes no key
        assert not wakes.event.wait(1.0)
        assert wakes.count == seen
        # the holder stops renewing (a dead agent): etcd drops its lease (TTL 2 s), key and all
        assert wakes.wait(), "the expiry of the leader's lease woke nobody"
        assert watcher.read().leader is None
    finally:
        stop()


def test_the_watch_survives_the_death_of_its_member(
    etcd: EtcdCluster,  # noqa: F811
) -> None:
    cluster = f"w{uuid.uuid4().hex[:10]}"
    watcher = _dcs(etcd.endpoints, cluster)
    holder = _dcs(list(reversed(etcd.endpoints)), cluster)
    wakes = Wakes()
    stop = watcher.watch_leader(wakes)
    try:
        watcher.read()
        assert holder.acquire_leader("east")
        assert wakes.wait()
        etcd.members[0].kill()  # the member the watcher streams from
        holder.release_leader("east")
        assert wakes.wait(), "a change after the watched member died woke nobody"
    finally:
        stop()
        watcher.close()
        holder.close()
