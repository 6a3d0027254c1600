"""The writes in a diverged WAL range, from ``pg_waldump``'s text: transactions and their tables.

Pure parsing: the driver runs ``pg_waldump`` over the old primary's WAL from
the fork on its old timeline; this module turns each record line

    rmgr: Heap        len (rec/tot):     59/    59, tx:        741, lsn: 0/03000148,
    prev 0/03000110, desc: INSERT off 3 flags 0x00, blkref #0: rel 1663/5/16384 blk 0

(one line in its output)
into per-transaction facts (its id, committed or aborted or unfinished, the
relation files it touched). Relation files are ``tablespace/database/filenode``
triples; :func:`name_tables` maps them to table names with what the server
answers (``pg_filenode_relation``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from drkit.ha.splitbrain.divergence import format_lsn, parse_lsn

RelFile = tuple[int, int, int]
"""(tablespace oid, database oid, relfilenode), as pg_waldump prints ``rel 1663/5/16384``."""

_RECORD = re.compile(
    r"rmgr:\s*(?P<rmgr>\S+)\s+len \(rec/tot\):\s*\d+/\s*(?P<tot>\d+), tx:\s*(?P<tx>\d+), "
    r"lsn: (?P<lsn>[0-9A-Fa-f]+/[0-9A-Fa-f]+), prev [0-9A-Fa-f]+/[0-9A-Fa-f]+, desc: (?P<desc>.*)"
)
_REL = re.compile(r"rel (\d+)/(\d+)/(\d+)")


@dataclass
class Transaction:
    xid: int
    outcome: str = "unfinished"
    """committed, aborted, or unfinished (no commit record in the range)."""
    files: set[RelFile] = field(default_factory=set)
    tables: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"xid": self.xid, "outcome": self.outcome, "tables": list(self.tables)}


@dataclass
class WalRange:
    records: int = 0
    first_lsn: int | None = None
    end_lsn: int | None = None
    """Just past the last record read (its LSN plus its length)."""
    transactions: dict[int, Transaction] = field(default_factory=dict)

    @property
    def files(self) -> set[RelFile]:
        return {f for t in self.transactions.values() for f in t.files}

    def committed(self) -> list[Transaction]:
        return [t for t in self.transactions.values() if t.outcome == "committed"]


def parse_waldump(text: str) -> WalRange:
    found = WalRange()
    for line in text.splitlines():
        m = _RECORD.search(line)
        if m is None:
            continue
        lsn = parse_lsn(m["lsn"])
        found.records += 1
        found.first_lsn = lsn if found.first_lsn is None else found.first_lsn
        found.end_lsn = lsn + int(m["tot"])
        xid = int(m["tx"])
        if xid == 0:
            continue
        tx = found.transactions.setdefault(xid, Transaction(xid))
        desc = m["desc"]
        if m["rmgr"] == "Transaction":
            if desc.startswith("COMMIT"):
                tx.outcome = "committed"
            elif desc.startswith("ABORT"):
                tx.outcome = "aborted"
        for spc, db, node in _REL.findall(desc):
            tx.files.add((int(spc), int(db), int(node)))
    return found


def name_tables(wal: WalRange, names: Mapping[RelFile, str]) -> None:
    """Each transaction's tables, by name where the server knew the file, else the file."""
    for tx in wal.transactions.values():
        tx.tables = tuple(
            sorted(
                names.get(f, f"relation file {f[0]}/{f[1]}/{f[2]} (not known to the server)")
                for f in tx.files
            )
        )


def describe(wal: WalRange) -> list[str]:
    """One line per transaction that wrote a table (committed ones first)."""
    order = {"committed": 0, "unfinished": 1, "aborted": 2}
    lines = []
    for tx in sorted(wal.transactions.values(), key=lambda t: (order[t.outcome], t.xid)):
        if tx.tables:
            lines.append(f"transaction {tx.xid} ({tx.outcome}): {', '.join(tx.tables)}")
    return lines


def lsn_text(value: int | None) -> str:
    return "?" if value is None else format_lsn(value)
