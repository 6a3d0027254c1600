"""Before an old primary is rejoined: the writes it took after the fork, from its own WAL.

The new primary's timeline history says where it left the old timeline (the
fork, :mod:`drkit.ha.splitbrain.divergence`); ``pg_waldump`` over the old
primary's WAL from there, on its old timeline, gives every record it wrote
afterwards (:mod:`drkit.ha.splitbrain.walreport`): the LSN range, each
transaction and whether it committed, and its tables, named by a running
server (the old primary when it is up, read-only after a fence; else the new
primary, which knows every table older than the fork). A rewind or a re-clone
discards exactly these writes, so the rejoin refuses while there are any,
unless an operator accepts them (``--accept-divergence``) or the inventory's
``rejoin_diverged: allow`` does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from drkit.ha.drivers.database.base import Database
from drkit.ha.drivers.errors import DatabaseError
from drkit.ha.splitbrain.divergence import Divergence, DivergenceError, divergence, format_lsn
from drkit.ha.splitbrain.walreport import WalRange, describe, name_tables, parse_waldump

log = logging.getLogger("drkit.ha.rejoin")


@dataclass(frozen=True)
class DivergedWrites:
    divergence: Divergence | None
    """None: the old server is on the new primary's timeline (nothing forked)."""
    wal: WalRange = field(default_factory=WalRange)
    notes: tuple[str, ...] = ()
    """What could not be read (a table the server does not know, WAL recycled)."""

    @property
    def diverged(self) -> bool:
        """A transaction wrote after the fork (records without one, such as a checkpoint, or
        the standby snapshot PostgreSQL logs, carry no data of anyone's)."""
        return self.divergence is not None and bool(self.wal.transactions)

    def lines(self) -> list[str]:
        d = self.divergence
        if d is None:
            return ["on the primary's timeline: no write to reconcile"]
        if not self.diverged:
            return [
                f"{d.old_site} wrote no transaction after the fork at {format_lsn(d.fork_lsn)} "
                f"(timeline {d.old_timeline}; {self.wal.records} WAL records without one): "
                "nothing to reconcile"
            ]
        end = self.wal.end_lsn or d.old_end_lsn
        head = (
            f"{d.old_site} wrote after the fork: timeline {d.old_timeline}, LSN "
            f"{format_lsn(d.fork_lsn)} to {format_lsn(end)} ({end - d.fork_lsn} bytes, "
            f"{self.wal.records} WAL records, {len(self.wal.committed())} committed "
            f"transactions); {d.new_site} forked onto timeline {d.new_timeline}"
        )
        return [head, *describe(self.wal), *self.notes]

    def as_json(self) -> dict[str, Any]:
        d = self.divergence
        return {
            "diverged": self.diverged,
            "old_site": None if d is None else d.old_site,
            "new_site": None if d is None else d.new_site,
            "old_timeline": None if d is None else d.old_timeline,
            "new_timeline": None if d is None else d.new_timeline,
            "fork_lsn": None if d is None else format_lsn(d.fork_lsn),
            "end_lsn": None
            if d is None or not self.diverged
            else format_lsn(self.wal.end_lsn or d.old_end_lsn),
            "records": self.wal.records,
            "transactions": [t.as_json() for t in self.wal.transactions.values() if t.tables],
            "notes": list(self.notes),
        }


def diverged_writes(old_site: str, old: Database, new_site: str, new: Database) -> DivergedWrites:
    """The report for rejoining ``old_site``'s server under ``new_site``'s primary."""
    state = old.probe()
    if state.reachable and state.in_recovery and state.streaming:
        # streaming replays the primary's own history: a diverged server cannot stream
        return DivergedWrites(None)
    old_timeline = old.control_timeline()
    new_timeline, history = new.timeline_history()
    if new_timeline == old_timeline:
        return DivergedWrites(None)
    fork = divergence(
        old_site=old_site,
        old_timeline=old_timeline,
        old_end_lsn=0,
        new_site=new_site,
        new_timeline=new_timeline,
        new_history=history,
    )
    notes: list[str] = []
    try:
        wal = parse_waldump(old.wal_dump(old_timeline, fork.fork_lsn))
    except DatabaseError as exc:
        raise DivergenceError(
            f"cannot read {old_site}'s WAL after the fork at {format_lsn(fork.fork_lsn)}: {exc}",
            hint="the writes after the fork cannot be reported; copy the data directory aside "
            "before a rejoin discards them",
        ) from exc
    if wal.first_lsn is not None and wal.first_lsn > fork.fork_lsn + 8192:
        notes.append(
            f"WAL before {format_lsn(wal.first_lsn)} is gone (recycled): earlier writes after the "
            "fork are not listed"
        )
    names = _names(old, new, wal, notes)
    name_tables(wal, names)
    end = wal.end_lsn or fork.fork_lsn
    report = Divergence(
        old_site, new_site, old_timeline, new_timeline, fork.fork_lsn, max(end, fork.fork_lsn)
    )
    return DivergedWrites(report, wal, tuple(notes))


def _names(
    old: Database, new: Database, wal: WalRange, notes: list[str]
) -> dict[tuple[int, int, int], str]:
    files = wal.files
    if not files:
        return {}
    names: dict[tuple[int, int, int], str] = {}
    for server in (old, new):  # the old one knows tables made after the fork too
        missing = files - set(names)
        if not missing:
            break
        try:
            names |= server.relation_names(missing)
        except DatabaseError as exc:
            log.info("relation names from %s: %s", server.name, exc)
    if files - set(names):
        notes.append(
            "some relation files are known to neither server (made and dropped after the fork, "
            "or the old server is down): listed by file"
        )
    return names
