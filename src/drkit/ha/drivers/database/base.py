"""The Database interface: what the HA agent asks of one site's database server.

LSNs are byte positions (``int``), so lag is a subtraction. ``probe`` never
raises for a server that is down: it says ``reachable=False`` with the reason,
because "down" is an observation, not a fault of the driver. Actions
(``promote``, ``demote``, ``stop``, ``start``, ...) raise
:class:`~drkit.ha.drivers.errors.DatabaseError` with the server's own words
when they cannot do what they promise, and are idempotent: promoting a
primary or stopping a stopped server succeeds at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from drkit.ha.drivers.errors import DatabaseError


class StopMode(StrEnum):
    SMART = "smart"
    FAST = "fast"
    IMMEDIATE = "immediate"


@dataclass(frozen=True)
class ReplicaRow:
    """One replica as its primary sees it (pg_stat_replication)."""

    name: str
    """application_name (what synchronous_standby_names lists)."""
    client_addr: str | None
    state: str
    """startup, catchup, streaming, backup, stopping."""
    sync_state: str
    """async, potential, sync, quorum."""
    sent_lsn: int | None
    replay_lsn: int | None
    lag_bytes: int | None
    """The primary's current LSN minus the replica's replay LSN."""
    replay_lag_s: float | None


@dataclass(frozen=True)
class SlotRow:
    name: str
    active: bool
    restart_lsn: int | None
    retained_bytes: int | None
    """WAL kept for the slot: current LSN minus restart LSN."""


@dataclass(frozen=True)
class DatabaseState:
    """One probe of the server. Every field but ``reachable``/``error`` is None when down."""

    reachable: bool
    error: str | None = None
    in_recovery: bool | None = None
    timeline: int | None = None
    current_lsn: int | None = None
    """Primary: the WAL write position. Replica: the last replayed position."""
    receive_lsn: int | None = None
    """Replica only: the last WAL received from upstream."""
    replay_lsn: int | None = None
    """Replica only."""
    lag_bytes: int | None = None
    """Replica only: received but not yet replayed (the primary's view is per ReplicaRow)."""
    lag_s: float | None = None
    """Replica only: age of the last replayed commit; 0 when all received is replayed;
    None when lagging but no commit was replayed since the server started (unknown)."""
    streaming: bool | None = None
    """Replica only: a WAL receiver is streaming from upstream."""
    replicas: tuple[ReplicaRow, ...] = ()
    slots: tuple[SlotRow, ...] = ()
    synchronous_standby_names: str | None = None

    @property
    def is_primary(self) -> bool:
        return self.reachable and self.in_recovery is False


class Database(ABC):
    """One PostgreSQL (or other) server the agent of its site controls."""

    name: str

    @abstractmethod
    def probe(self) -> DatabaseState:
        """Connect and read the state; ``reachable=False`` (with ``error``) if it cannot."""

    @abstractmethod
    def promote(self, wait_s: float) -> DatabaseState:
        """Make a replica the primary; return once it accepts writes, within ``wait_s``.

        A primary already: return at once. Not done in time, or not running:
        DatabaseError. The caller checks lag before calling (no data-loss guard here).
        """

    @abstractmethod
    def demote(self, primary_conninfo: str | None = None) -> None:
        """Fence: after return the server accepts no writes (restarted read-only as a
        standby, following ``primary_conninfo`` when given; stopped if that fails)."""

    @abstractmethod
    def stop(self, mode: StopMode = StopMode.FAST) -> None:
        """Stop the server; a stopped server is fine."""

    @abstractmethod
    def start(self) -> None:
        """Start the server and wait until it accepts connections; a running one is fine."""

    @abstractmethod
    def set_synchronous_standbys(self, names: Sequence[str], count: int = 1) -> None:
        """Set synchronous_standby_names (``FIRST count (names)``; empty: asynchronous)
        and reload. Only on a primary; takes effect for the next commit."""

    @abstractmethod
    def rewind_from(self, primary_conninfo: str) -> None:
        """Rejoin a stopped old primary: pg_rewind against the new primary, configure it
        as a standby of ``primary_conninfo`` and start it. DatabaseError when rewind
        cannot (then :meth:`reclone_from`)."""

    @abstractmethod
    def reclone_from(self, primary_conninfo: str) -> None:
        """Replace the data directory by a fresh base backup of the primary and start
        as its standby (the old directory is moved aside, not deleted, until it runs)."""

    # --- for the diverged-writes report before a rejoin (PostgreSQL; others: not supported) ---

    def control_timeline(self) -> int:
        """The timeline in the server's control file (running or stopped)."""
        raise DatabaseError(f"{self.name}: no timeline for the divergence report")

    def timeline_history(self) -> tuple[int, str]:
        """A running server's current timeline and that timeline's history file."""
        raise DatabaseError(f"{self.name}: no timeline history for the divergence report")

    def wal_dump(self, timeline: int, start_lsn: int) -> str:
        """The text of ``pg_waldump`` over this server's own WAL from ``start_lsn``."""
        raise DatabaseError(f"{self.name}: its WAL cannot be decoded")

    def relation_names(self, files: set[tuple[int, int, int]]) -> dict[tuple[int, int, int], str]:
        """``database.schema.table`` of each relation file a running server knows."""
        raise DatabaseError(f"{self.name}: relation files cannot be named")
