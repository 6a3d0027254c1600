"""loadbalancer.set_state against a real HAProxy: fence with maint (sessions cut), reopen."""

from __future__ import annotations

import pytest

from drkit.runbooks.errors import ActionFailed
from tests.fixtures.ha_context import args_of, run_action
from tests.fixtures.haproxy import HaproxyServer


def _state(server: HaproxyServer, name: str) -> str:
    row = next(
        line for line in server.runtime("show stat db 4 -1").splitlines() if f",{name}," in line
    )
    return row.split(",")[17]  # status column


def test_maint_fences_and_cuts_sessions_then_ready_reopens(haproxy: HaproxyServer) -> None:
    conn = haproxy.connect_frontend()
    conn.sendall(b"hi")
    assert conn.recv(2) == b"hi"
    result = run_action(
        "loadbalancer.set_state",
        socket=str(haproxy.socket_path),
        backend="db",
        servers=["s1", "s2"],
        state="maint",
    )
    assert result.outputs == {
        "previous": "s1=ready,s2=ready",
        "state": "maint",
        "sessions_closed": "1",
    }
    assert _state(haproxy, "s1") == "MAINT" and _state(haproxy, "s2") == "MAINT"
    conn.settimeout(5)
    try:
        assert conn.recv(1) == b""
    except ConnectionResetError:
        pass
    again = run_action(
        "loadbalancer.set_state",
        address=haproxy.admin_address,
        backend="db",
        servers=["s2"],
        state="ready",
    )
    assert again.outputs["previous"] == "s2=maint" and again.outputs["sessions_closed"] == "0"
    assert _state(haproxy, "s2").startswith("UP") and _state(haproxy, "s1") == "MAINT"
    reopened = haproxy.connect_frontend()  # served by s2 at once
    reopened.sendall(b"ok")
    assert reopened.recv(2) == b"ok"


def test_unknown_server_fails_the_step(haproxy: HaproxyServer) -> None:
    with pytest.raises(ActionFailed, match="No such server"):
        run_action(
            "loadbalancer.set_state",
            socket=str(haproxy.socket_path),
            backend="db",
            servers=["s9"],
            state="drain",
        )


def test_args_need_one_socket() -> None:
    with pytest.raises(ValueError, match="one of them"):
        args_of("loadbalancer.set_state", backend="db", servers=["s1"], state="maint")
