"""The etcd3 DCS driver against a real 3-member etcd: the DCS contract, member loss, no quorum."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drkit.ha.drivers.dcs.base import DCS
from drkit.ha.drivers.dcs.etcd3 import Etcd3DCS, Etcd3Settings, build
from drkit.ha.drivers.dcs.registry import DCS_DRIVERS
from drkit.ha.drivers.errors import DCSError, DCSUnavailable
from tests.fixtures.etcd import (
    EtcdCluster,
)
from tests.unit.ha_drivers.contract_dcs import DCSContract, Make

TTL = 2
TIMEOUT = 1.0
RETRY = 4.0


def _maker(endpoints: list[str], opened: list[DCS], ttl: int = TTL) -> Make:
    cluster = f"t{uuid.uuid4().hex[:10]}"

    def make() -> DCS:
        settings = Etcd3Settings(
            cluster=cluster,
            ttl_s=TTL,
            endpoints=endpoints,
            request_timeout_s=TIMEOUT,
            retry_timeout_s=RETRY,
        )
        dcs = build(settings)
        opened.append(dcs)
        return dcs

    return make


@pytest.fixture
def make(etcd_cluster: EtcdCluster) -> Iterator[Make]:
    opened: list[DCS] = []
    yield _maker(etcd_cluster.endpoints, opened)
    for dcs in opened:
        dcs.close()


@pytest.fixture
def make_long(etcd_cluster: EtcdCluster) -> Iterator[Make]:
    """Clients whose lease outlives an etcd leader election (about 1-2 s)."""
    opened: list[DCS] = []
    yield _maker(etcd_cluster.endpoints, opened, ttl=8)
    for dcs in opened:
        dcs.close()


class TestEtcd3(DCSContract):
    def expire(self, dcs: DCS) -> None:
        """Wait until etcd itself dropped the lease (it checks expiry about every 0.5 s)."""
        assert isinstance(dcs, Etcd3DCS)
        if dcs.lease is None:
            return  # nothing was ever written under a lease
        deadline = time.monotonic() + TTL + 10
        while time.monotonic() < deadline:
            answer = dcs.client.post("lease/timetolive", {"ID": dcs.lease})
            if int(answer.get("TTL", 0)) < 0:
                return
            time.sleep(0.25)
        pytest.fail("the lease did not expire")


def test_registry_parses_etcd3() -> None:
    settings = DCS_DRIVERS.parse(
        {"type": "etcd3", "cluster": "c", "endpoints": ["http://127.0.0.1:1"]}
    )
    assert isinstance(settings, Etcd3Settings)
    with pytest.raises(ValueError, match="http"):
        Etcd3Settings(cluster="c", endpoints=["127.0.0.1:2379"])
    with pytest.raises(ValueError, match="username"):
        Etcd3Settings(cluster="c", endpoints=["http://x:1"], username="u")


def test_cas_race_between_two_clients_one_winner(make: Make) -> None:
    clients = [make() for _ in range(4)]
    wins = [c.acquire_leader(f"s{i}") for i, c in enumerate(clients)]
    assert wins.count(True) == 1
    winner = wins.index(True)
    assert all(c.refresh_leader(f"s{i}") is (i == winner) for i, c in enumerate(clients))


def test_takeover_by_other_lease_fails_old_refresh(make: Make) -> None:
    a, b = make(), make()
    assert a.acquire_leader("east")
    assert isinstance(a, Etcd3DCS) and a.lease is not None
    a.client.post("lease/revoke", {"ID": a.lease})  # as if it had expired
    assert b.acquire_leader("west")
    assert a.refresh_leader("east") is False
    assert a.acquire_leader("east") is False  # new lease, but the key is west's


def test_one_member_down_still_works(etcd: EtcdCluster, make_long: Make) -> None:
    a, b = make_long(), make_long()
    assert a.acquire_leader("east")
    etcd.members[0].kill()  # the endpoint every client tries first
    a.publish("east", "member", {"ok": True})
    assert a.refresh_leader("east") is True
    assert b.acquire_leader("west") is False
    assert b.read().members == {"east": {"ok": True}}


def test_one_member_frozen_still_works(etcd: EtcdCluster, make_long: Make) -> None:
    a = make_long()
    etcd.members[0].pause()
    assert a.acquire_leader("east")
    assert a.refresh_leader("east")


def test_two_members_down_is_unavailable_in_bounded_time(
    etcd: EtcdCluster,
    make: Make,
) -> None:
    a = make()
    assert a.acquire_leader("east")
    etcd.members[1].pause()
    etcd.members[2].kill()
    for call in (a.read, lambda: a.refresh_leader("east"), lambda: a.publish("east", "m", {})):
        started = time.monotonic()
        with pytest.raises(DCSUnavailable) as caught:
            call()
        # bounded by the driver's own budget (timeout per endpoint), not a guess at speed
        assert time.monotonic() - started < RETRY + TIMEOUT + 2.0
        assert "no etcd endpoint answered" in caught.value.message


def test_no_endpoint_at_all_is_unavailable() -> None:
    dcs = build(Etcd3Settings(cluster="c", endpoints=["http://127.0.0.1:1"], ttl_s=TTL))
    with pytest.raises(DCSUnavailable, match=r"127\.0\.0\.1:1"):
        dcs.read()
    dcs.close()


def test_bad_password_file_is_a_clear_error(tmp_path: object) -> None:
    settings = Etcd3Settings(
        cluster="c",
        endpoints=["http://127.0.0.1:1"],
        username="u",
        password_file="/nonexistent/pw",  # type: ignore[arg-type]
    )
    with pytest.raises(DCSError, match="etcd password: the file /nonexistent/pw does not"):
        build(settings)


def test_user_and_password(
    etcd_with_auth: tuple[EtcdCluster, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cluster, password = etcd_with_auth
    anonymous = build(Etcd3Settings(cluster="auth", endpoints=cluster.endpoints, ttl_s=TTL))
    with pytest.raises(DCSError, match="etcd refused"):
        anonymous.read()
    monkeypatch.setenv("DRKIT_TEST_ETCD_PW", password)
    settings = {"cluster": "auth", "endpoints": cluster.endpoints, "ttl_s": TTL}
    good = build(Etcd3Settings(**settings, username="root", password_env="DRKIT_TEST_ETCD_PW"))
    assert good.acquire_leader("east") is True
    leader = good.read().leader
    assert leader is not None and leader.site == "east"
    good.close()
    monkeypatch.setenv("DRKIT_TEST_ETCD_PW", "wrong")
    bad = build(Etcd3Settings(**settings, username="root", password_env="DRKIT_TEST_ETCD_PW"))
    with pytest.raises(DCSError, match="refused user 'root'"):
        bad.read()


def test_tls_with_the_ca_and_refused_without(etcd_tls: tuple[str, Path]) -> None:
    url, ca = etcd_tls
    trusted = build(Etcd3Settings(cluster="tls", endpoints=[url], ttl_s=TTL, ca_file=ca))
    assert trusted.acquire_leader("east") is True
    assert trusted.read().leader is not None
    trusted.close()
    untrusted = build(Etcd3Settings(cluster="tls", endpoints=[url], ttl_s=TTL))
    with pytest.raises(DCSError, match="not trusted") as caught:
        untrusted.read()
    assert not isinstance(caught.value, DCSUnavailable)


def test_client_certificate_opens_an_etcd_that_demands_one(etcd_mtls: tuple[str, Path]) -> None:
    """cert_file/key_file are sent; without them the same etcd refuses, and says so."""
    url, ca = etcd_mtls
    common: dict[str, Any] = {"cluster": "mtls", "endpoints": [url], "ttl_s": TTL, "ca_file": ca}
    with_cert = build(
        Etcd3Settings(
            **common, cert_file=ca.parent / "client.pem", key_file=ca.parent / "client.key"
        )
    )
    assert with_cert.acquire_leader("east") is True
    assert with_cert.read().leader is not None
    with_cert.close()
    without = build(Etcd3Settings(**common))
    with pytest.raises(DCSError) as caught:
        without.read()
    assert "certificate" in str(caught.value).lower() or "tls" in str(caught.value).lower()
