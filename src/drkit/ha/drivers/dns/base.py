"""The Dns interface: read a record from every authoritative server, replace it.

Values are compared in DNS's canonical text (``127.0.0.3``, ``host.example.`` with
the trailing dot), sorted. ``query`` asks each server itself (never a cache) and
reports per server, so a split (servers answering differently) is visible.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DnsRecord:
    zone: str
    name: str
    """Relative to the zone, or absolute with a trailing dot."""
    type: str = "A"


@dataclass(frozen=True)
class ServerAnswer:
    server: str
    """host:port."""
    values: tuple[str, ...]
    """Sorted canonical values; empty when the name has none (or on error)."""
    error: str | None = None
    """Why this server gave no answer (timeout, refused, SERVFAIL...)."""


class Dns(ABC):
    @abstractmethod
    def query(self, record: DnsRecord) -> list[ServerAnswer]:
        """The record's values on each configured server, in configuration order.

        A server that does not answer gets ``error`` set; this never raises for that.
        """

    @abstractmethod
    def replace(
        self,
        record: DnsRecord,
        values: Sequence[str],
        ttl: int,
        *,
        if_current: Sequence[str] | None = None,
    ) -> bool:
        """Replace the whole record set by ``values`` in one atomic update (RFC 2136).

        With ``if_current`` the update applies only if the record holds exactly those
        values (a prerequisite), so two agents moving one name cannot both win.
        Returns False when the primary server already held exactly these values
        (nothing sent), True when an update was applied. DnsError (the server's
        rcode in words) when it was refused.
        """
