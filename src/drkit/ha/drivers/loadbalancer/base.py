"""The LoadBalancer interface: one backend's servers, their admin state and weight.

A driver instance controls ONE backend (HAProxy ``backend`` section); servers
are named as in its configuration. Changes act at once, without waiting for
the balancer's own health checks. Unknown server: LoadBalancerError naming the
known ones. Every method is idempotent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum


class AdminState(StrEnum):
    READY = "ready"
    """Takes traffic when its checks pass."""
    DRAIN = "drain"
    """No new connections (except persistent ones); existing ones continue."""
    MAINT = "maint"
    """No traffic at all; health checks stop."""


class OpState(StrEnum):
    UP = "up"
    DOWN = "down"
    STARTING = "starting"
    STOPPING = "stopping"


@dataclass(frozen=True)
class ServerState:
    backend: str
    name: str
    address: str
    port: int | None
    admin: AdminState
    op: OpState
    """What the checks say (MAINT servers report DOWN)."""
    weight: int
    sessions: int | None
    """Current sessions (None when the balancer does not say)."""
    check: str = ""
    """The last check's status in the balancer's words (e.g. L4OK, L7STS)."""

    @property
    def serving(self) -> bool:
        """Takes new traffic now."""
        return self.admin is AdminState.READY and self.op is OpState.UP


class LoadBalancer(ABC):
    backend: str

    @abstractmethod
    def servers(self) -> list[ServerState]:
        """Every server of the backend, in configuration order."""

    @abstractmethod
    def set_state(self, server: str, state: AdminState) -> ServerState:
        """Set the server's admin state; returns it as read back after the change."""

    @abstractmethod
    def set_weight(self, server: str, weight: int) -> ServerState:
        """Set the weight (0-256; 0 takes no new traffic); returns the server read back."""

    @abstractmethod
    def shutdown_sessions(self, server: str) -> int:
        """Close every session on the server now; returns how many there were."""
