"""The HAProxy driver against a real HAProxy: the contract, checks, sessions, both socket kinds."""

from __future__ import annotations

import socket

import pytest

from drkit.ha.drivers.errors import LoadBalancerError
from drkit.ha.drivers.loadbalancer.base import AdminState, OpState
from drkit.ha.drivers.loadbalancer.haproxy import HaproxyLoadBalancer, HaproxySettings
from drkit.ha.drivers.loadbalancer.registry import LOAD_BALANCERS
from tests.fixtures.haproxy import HaproxyServer, wait_until
from tests.unit.ha_drivers.contract_loadbalancer import LoadBalancerContract


def _driver(server: HaproxyServer, *, tcp: bool = False) -> HaproxyLoadBalancer:
    where = {"address": server.admin_address} if tcp else {"socket": server.socket_path}
    settings = LOAD_BALANCERS.parse({"type": "haproxy", "backend": "db", **where})
    driver = LOAD_BALANCERS.build(settings)
    assert isinstance(driver, HaproxyLoadBalancer)
    return driver


class TestHaproxyUnixSocket(LoadBalancerContract):
    @pytest.fixture
    def lb(self, haproxy: HaproxyServer) -> HaproxyLoadBalancer:
        return _driver(haproxy)


class TestHaproxyTcpSocket(LoadBalancerContract):
    @pytest.fixture
    def lb(self, haproxy: HaproxyServer) -> HaproxyLoadBalancer:
        return _driver(haproxy, tcp=True)


def _serve_one(server: HaproxyServer) -> socket.socket:
    conn = server.connect_frontend()
    conn.sendall(b"ping")
    assert conn.recv(4) == b"ping"
    return conn


def test_maint_is_what_haproxy_itself_reports(haproxy: HaproxyServer) -> None:
    lb = _driver(haproxy)
    lb.set_state("s1", AdminState.MAINT)
    assert "MAINT" in haproxy.runtime("show stat db 4 -1").split("\ndb,s1,")[1].split("\n")[0]
    lb.set_state("s2", AdminState.MAINT)
    conn = haproxy.connect_frontend()  # no server left: HAProxy closes at once
    conn.sendall(b"x")
    assert conn.recv(1) == b""


def test_killed_server_shows_down(haproxy: HaproxyServer) -> None:
    lb = _driver(haproxy)
    haproxy.listeners["s2"].close()
    wait_until(lambda: lb.servers()[1].op is OpState.DOWN, what="s2 DOWN")
    s1, s2 = lb.servers()
    assert s1.serving and not s2.serving and s2.admin is AdminState.READY
    assert s2.check.startswith("L4")


def test_shutdown_sessions_cuts_live_connections(haproxy: HaproxyServer) -> None:
    lb = _driver(haproxy)
    lb.set_state("s2", AdminState.MAINT)  # every new session goes to s1
    conns = [_serve_one(haproxy) for _ in range(2)]
    assert next(s for s in lb.servers() if s.name == "s1").sessions == 2
    assert lb.shutdown_sessions("s1") == 2
    for conn in conns:
        conn.settimeout(5)
        try:
            assert conn.recv(1) == b""
        except ConnectionResetError:
            pass
    wait_until(lambda: lb.servers()[0].sessions == 0, what="sessions closed")


def test_unknown_backend_is_an_error(haproxy: HaproxyServer) -> None:
    lb = HaproxyLoadBalancer(HaproxySettings(socket=haproxy.socket_path, backend="nope"))
    with pytest.raises(LoadBalancerError, match="find backend"):
        lb.servers()


def test_unreachable_socket_is_an_error(haproxy: HaproxyServer) -> None:
    lb = HaproxyLoadBalancer(HaproxySettings(socket=haproxy.folder / "none.sock", backend="db"))
    with pytest.raises(LoadBalancerError, match="cannot reach"):
        lb.servers()


def test_settings_need_one_target() -> None:
    with pytest.raises(ValueError, match="one of them"):
        HaproxySettings(backend="db")
