"""A database that exists only in memory, for unit tests of the agent's logic.

Tests set its fields (``running``, ``in_recovery``, ``lsn``, ``replay_lsn``,
``fail_next``) and read ``calls`` to see what the agent did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from drkit.ha.drivers.database.base import Database, DatabaseState, ReplicaRow, StopMode
from drkit.ha.drivers.errors import DatabaseError
from drkit.plugins import Plugin


class MemoryDatabaseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["memory"] = "memory"
    name: str = "db"
    in_recovery: bool = False


class MemoryDatabase(Database):
    def __init__(self, name: str = "db", *, in_recovery: bool = False) -> None:
        self.name = name
        self.running = True
        self.in_recovery = in_recovery
        self.timeline = 1
        self.lsn = 0x3000000
        self.receive_lsn = self.lsn
        self.replay_lsn = self.lsn
        self.lag_s = 0.0
        self.sync_names: tuple[str, ...] = ()
        self.standbys: dict[str, str] = {}
        """As a primary: streaming standbys and their sync_state (tests set it)."""
        self.upstream: str | None = None
        self.fail_next: str | None = None
        self.calls: list[str] = []

    def _act(self, call: str) -> None:
        self.calls.append(call)
        if self.fail_next is not None:
            message, self.fail_next = self.fail_next, None
            raise DatabaseError(message)

    def probe(self) -> DatabaseState:
        if not self.running:
            return DatabaseState(reachable=False, error="connection refused")
        if not self.in_recovery:
            listed = ", ".join(f'"{n}"' for n in self.sync_names)
            return DatabaseState(
                True,
                None,
                False,
                self.timeline,
                self.lsn,
                replicas=tuple(
                    ReplicaRow(name, None, "streaming", state, self.lsn, self.lsn, 0, 0.0)
                    for name, state in self.standbys.items()
                ),
                synchronous_standby_names=f"FIRST 1 ({listed})" if listed else "",
            )
        return DatabaseState(
            reachable=True,
            in_recovery=True,
            timeline=self.timeline,
            current_lsn=self.replay_lsn,
            receive_lsn=self.receive_lsn,
            replay_lsn=self.replay_lsn,
            lag_bytes=self.receive_lsn - self.replay_lsn,
            lag_s=self.lag_s,
            streaming=self.upstream is not None,
        )

    def promote(self, wait_s: float) -> DatabaseState:
        self._act("promote")
        if not self.running:
            raise DatabaseError(f"{self.name} is not running")
        if self.in_recovery:
            self.in_recovery = False
            self.timeline += 1
            self.lsn = self.replay_lsn
            self.upstream = None
        return self.probe()

    def demote(self, primary_conninfo: str | None = None) -> None:
        self._act("demote")
        self.in_recovery = True
        self.upstream = primary_conninfo
        self.receive_lsn = self.replay_lsn = self.lsn

    def stop(self, mode: StopMode = StopMode.FAST) -> None:
        self._act(f"stop:{mode.value}")
        self.running = False

    def start(self) -> None:
        self._act("start")
        self.running = True

    def set_synchronous_standbys(self, names: Sequence[str], count: int = 1) -> None:
        self._act("set_synchronous_standbys:" + ",".join(names))
        self.sync_names = tuple(names)

    def rewind_from(self, primary_conninfo: str) -> None:
        self._act("rewind_from")
        self.demote(primary_conninfo)
        self.running = True

    def reclone_from(self, primary_conninfo: str) -> None:
        self._act("reclone_from")
        self.demote(primary_conninfo)
        self.running = True


def _build(settings: MemoryDatabaseSettings) -> MemoryDatabase:
    return MemoryDatabase(settings.name, in_recovery=settings.in_recovery)


PLUGIN = Plugin("memory", MemoryDatabaseSettings, _build, "in-process database for tests")
