"""The DCS interface: one leader key under a lease, per-site records, pause, history.

Patroni's ``dcs/__init__.py`` is the model: a few primitives with precise
contracts, and one immutable :class:`ClusterView` read per agent cycle.

Keys (every driver lays them out the same way, under ``/drkit/<cluster>/``):

    leader              the leading site's name, under the leader's lease
    <kind>/<site>       a published record (JSON), under the publisher's lease
    pause               the pause record (JSON), no lease
    history/<id>        one failover record (JSON) per key, no lease
    config              the cluster's shared configuration (JSON), no lease
    sync                the synchronous standby the leader named (JSON), no lease:
                        written only by the leader key's holder (compare-and-set)

Each client (one per agent) owns ONE lease of ``ttl_s`` seconds. Every call
that writes under it (``acquire_leader``, ``refresh_leader``, ``publish``)
first keeps it alive, or grants a new one if it expired; when it expired, the
leader key and the records that were under it are gone, as they are for every
other agent. An agent that stops calling loses everything it published within
``ttl_s``.

Every method raises :class:`~drkit.ha.drivers.errors.DCSUnavailable` when no
endpoint answers or the store has no quorum, within a bounded time (the
driver's request timeout times its endpoints); the caller must then take no
automatic action.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Record = Mapping[str, Any]
"""A JSON object as stored (payloads are copied in and out: mutating one changes nothing)."""

RESERVED_KINDS = frozenset({"leader", "pause", "history", "config", "sync"})
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


class DcsSettingsBase(BaseModel):
    """What every DCS driver's settings have: the cluster name and the lease TTL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cluster: str = Field(pattern=_NAME, description="Keys live under /drkit/<cluster>/.")
    ttl_s: int = Field(default=10, ge=2, le=3600, description="Lease TTL in seconds.")


def check_kind(kind: str) -> None:
    """ValueError for a publish kind that is malformed or reserved (a programming error)."""
    if not _KIND.match(kind) or kind in RESERVED_KINDS:
        raise ValueError(f"bad record kind {kind!r}: [a-z][a-z0-9_-]*, not {RESERVED_KINDS}")


def check_site(site: str) -> None:
    if not re.match(_NAME, site):
        raise ValueError(f"bad site name {site!r}")


@dataclass(frozen=True)
class Leader:
    """Who holds the leader key, under which lease, and for how long still (if known)."""

    site: str
    lease: str
    revision: int
    """The leader key's mod revision (changes on every take-over)."""
    expires_in_s: float | None = None


@dataclass(frozen=True)
class ClusterView:
    """One consistent read of the whole cluster prefix (one store revision)."""

    cluster: str
    revision: int
    leader: Leader | None = None
    published: Mapping[str, Mapping[str, Record]] = field(default_factory=dict)
    """kind -> site -> payload, only records whose lease is alive."""
    pause: Record | None = None
    history: tuple[Record, ...] = ()
    """Failover records, oldest first."""
    config: Record | None = None
    config_revision: int = 0
    """The config key's mod revision (0: no config yet); the compare value for set_config."""
    sync: Record | None = None
    """The sync key: ``{"leader": site, "sync_standby": name or None, "at": ...}`` (or absent)."""

    def of_kind(self, kind: str) -> Mapping[str, Record]:
        return self.published.get(kind, {})

    @property
    def members(self) -> Mapping[str, Record]:
        return self.of_kind("member")

    @property
    def observations(self) -> Mapping[str, Record]:
        return self.of_kind("observation")


class DCS(ABC):
    """A client of the store for one cluster, owning one lease."""

    cluster: str
    ttl_s: int

    @abstractmethod
    def read(self) -> ClusterView:
        """Everything under the cluster prefix at one revision, as an immutable snapshot.

        Records whose lease expired are absent. Never writes.
        """

    @abstractmethod
    def acquire_leader(self, site: str) -> bool:
        """Create the leader key with value ``site`` under our lease, atomically iff absent.

        True if we created it now (or it is already ours under our live lease);
        False if another holder has it. Two clients racing: exactly one gets True.
        """

    @abstractmethod
    def refresh_leader(self, site: str) -> bool:
        """Keep our lease alive and check (compare-and-set) that the key is still ``site``'s.

        True only when the leader key holds ``site`` under our lease after the
        call. False when it is lost (lease expired, key deleted or taken); then
        the caller no longer leads and must fence. Never creates the key.
        """

    @abstractmethod
    def release_leader(self, site: str) -> None:
        """Delete the leader key iff it is ``site``'s under our lease; no-op otherwise."""

    @abstractmethod
    def publish(self, site: str, kind: str, payload: Record) -> None:
        """Store ``payload`` (JSON-serialisable) at ``<kind>/<site>`` under our lease.

        Replaces the previous one; gone when the lease expires. ``kind`` is
        e.g. "member" or "observation" (see :func:`check_kind`).
        """

    @abstractmethod
    def set_pause(self, record: Record | None) -> None:
        """Write the pause record (who, why, when), or delete it with None. No lease."""

    @abstractmethod
    def append_history(self, record: Record) -> None:
        """Add one failover record; read() lists them in the order they were appended."""

    @abstractmethod
    def set_config(self, config: Record, *, expected_revision: int) -> bool:
        """Compare-and-set the shared config: write iff its revision is ``expected_revision``.

        ``expected_revision`` 0 means "only if there is no config yet". False on conflict.
        """

    @abstractmethod
    def set_sync(self, site: str, record: Record) -> bool:
        """Write the sync key iff ``site`` holds the leader key under our lease (one txn).

        False when we do not lead (nothing written). The key has no lease: it
        outlives a dead leader, so the standbys know which of them holds every
        acknowledged write.
        """

    def watch_leader(self, on_change: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_change`` (from another thread) whenever the leader key changes.

        Only a hint to act sooner: the caller still reads and decides on its own
        schedule. Returns the function that stops the watch. A store that cannot
        watch calls nothing.
        """
        return lambda: None

    @abstractmethod
    def close(self) -> None:
        """Revoke our lease (our leader key and records go at once) and free connections.

        Best effort: never raises; a lease that cannot be revoked expires by itself.
        """
