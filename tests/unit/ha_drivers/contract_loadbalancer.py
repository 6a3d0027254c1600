"""The LoadBalancer contract: every driver passes it with a fresh backend of servers s1, s2.

Subclasses provide the ``lb`` fixture (both servers ready and up).
"""

from __future__ import annotations

import pytest

from drkit.ha.drivers.errors import LoadBalancerError
from drkit.ha.drivers.loadbalancer.base import AdminState, LoadBalancer, OpState


class LoadBalancerContract:
    def test_lists_both_servers_ready(self, lb: LoadBalancer) -> None:
        servers = lb.servers()
        assert [s.name for s in servers] == ["s1", "s2"]
        assert all(s.admin is AdminState.READY and s.op is OpState.UP for s in servers)
        assert all(s.serving and s.backend == lb.backend for s in servers)

    @pytest.mark.parametrize("state", [AdminState.MAINT, AdminState.DRAIN])
    def test_set_state_and_back(self, lb: LoadBalancer, state: AdminState) -> None:
        changed = lb.set_state("s1", state)
        assert changed.admin is state and not changed.serving
        assert lb.set_state("s1", state).admin is state  # idempotent
        other = next(s for s in lb.servers() if s.name == "s2")
        assert other.admin is AdminState.READY
        assert lb.set_state("s1", AdminState.READY).admin is AdminState.READY

    def test_set_weight(self, lb: LoadBalancer) -> None:
        assert lb.set_weight("s2", 0).weight == 0
        assert next(s for s in lb.servers() if s.name == "s2").weight == 0
        assert lb.set_weight("s2", 50).weight == 50

    def test_unknown_server_is_an_error(self, lb: LoadBalancer) -> None:
        with pytest.raises(LoadBalancerError, match="s9"):
            lb.set_state("s9", AdminState.MAINT)
        with pytest.raises(LoadBalancerError):
            lb.shutdown_sessions("s9")

    def test_shutdown_sessions_without_sessions(self, lb: LoadBalancer) -> None:
        assert lb.shutdown_sessions("s1") == 0
