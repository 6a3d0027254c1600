"""A load balancer in memory, for unit tests: servers are plain fields."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from drkit.ha.drivers.errors import LoadBalancerError
from drkit.ha.drivers.loadbalancer.base import AdminState, LoadBalancer, OpState, ServerState
from drkit.plugins import Plugin


class MemoryLoadBalancerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["memory"] = "memory"
    backend: str = "db"
    servers: list[str] = Field(default_factory=lambda: ["s1", "s2"])


class MemoryLoadBalancer(LoadBalancer):
    def __init__(self, backend: str = "db", servers: list[str] | None = None) -> None:
        self.backend = backend
        self.state = {
            name: ServerState(backend, name, "127.0.0.1", None, AdminState.READY, OpState.UP, 1, 0)
            for name in (servers or ["s1", "s2"])
        }
        self.calls: list[str] = []

    def _get(self, server: str) -> ServerState:
        try:
            return self.state[server]
        except KeyError:
            known = ", ".join(self.state)
            raise LoadBalancerError(
                f"backend {self.backend} has no server {server!r}", hint=f"known: {known}"
            ) from None

    def servers(self) -> list[ServerState]:
        return list(self.state.values())

    def set_state(self, server: str, state: AdminState) -> ServerState:
        self.calls.append(f"set_state:{server}:{state.value}")
        self.state[server] = replace(self._get(server), admin=state)
        return self.state[server]

    def set_weight(self, server: str, weight: int) -> ServerState:
        self.calls.append(f"set_weight:{server}:{weight}")
        self.state[server] = replace(self._get(server), weight=weight)
        return self.state[server]

    def shutdown_sessions(self, server: str) -> int:
        self.calls.append(f"shutdown_sessions:{server}")
        old = self._get(server)
        self.state[server] = replace(old, sessions=0)
        return old.sessions or 0


def _build(settings: MemoryLoadBalancerSettings) -> MemoryLoadBalancer:
    return MemoryLoadBalancer(settings.backend, list(settings.servers))


PLUGIN = Plugin("memory", MemoryLoadBalancerSettings, _build, "in-process balancer for tests")
