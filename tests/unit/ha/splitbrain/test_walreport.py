"""pg_waldump's text to transactions and tables (the diverged-writes report's parsing)."""

from __future__ import annotations

from drkit.ha.splitbrain.walreport import describe, name_tables, parse_waldump

DUMP = """\
rmgr: Standby     len (rec/tot):     50/    50, tx:          0, lsn: 0/03000060, prev 0/03000028, desc: RUNNING_XACTS nextXid 740 latestCompletedXid 739 oldestRunningXid 740
rmgr: Heap        len (rec/tot):     59/    59, tx:        740, lsn: 0/03000098, prev 0/03000060, desc: INSERT off 3 flags 0x00, blkref #0: rel 1663/5/16384 blk 0
rmgr: Btree       len (rec/tot):     64/    64, tx:        740, lsn: 0/030000D8, prev 0/03000098, desc: INSERT_LEAF off 3, blkref #0: rel 1663/5/16390 blk 1
rmgr: Transaction len (rec/tot):     34/    34, tx:        740, lsn: 0/03000118, prev 0/030000D8, desc: COMMIT 2026-12-03 07:00:00.000000 UTC
rmgr: Heap        len (rec/tot):     59/    59, tx:        741, lsn: 0/03000140, prev 0/03000118, desc: DELETE off 1 flags 0x00, blkref #0: rel 1663/5/16400 blk 0
rmgr: Transaction len (rec/tot):     34/    34, tx:        741, lsn: 0/03000180, prev 0/03000140, desc: ABORT 2026-12-03 07:00:01.000000 UTC
rmgr: Heap        len (rec/tot):     59/    59, tx:        742, lsn: 0/030001A8, prev 0/03000180, desc: INSERT off 4 flags 0x00, blkref #0: rel 1663/5/16384 blk 0
pg_waldump: error: error in WAL record at 0/30001A8: invalid record length at 0/30001E8: wanted 24, got 0
"""  # noqa: E501


def test_transactions_their_outcome_and_the_range() -> None:
    wal = parse_waldump(DUMP)
    assert wal.records == 7
    assert wal.first_lsn == 0x3000060 and wal.end_lsn == 0x30001A8 + 59
    outcomes = {t.xid: t.outcome for t in wal.transactions.values()}
    assert outcomes == {740: "committed", 741: "aborted", 742: "unfinished"}
    assert wal.transactions[740].files == {(1663, 5, 16384), (1663, 5, 16390)}
    assert [t.xid for t in wal.committed()] == [740]


def test_tables_are_named_and_unknown_files_are_listed_not_dropped() -> None:
    wal = parse_waldump(DUMP)
    name_tables(wal, {(1663, 5, 16384): "shop.public.orders", (1663, 5, 16390): "shop.orders_pkey"})
    lines = describe(wal)
    assert lines[0] == "transaction 740 (committed): shop.orders_pkey, shop.public.orders"
    assert lines[1] == "transaction 742 (unfinished): shop.public.orders"
    assert "transaction 741 (aborted): relation file 1663/5/16400 (not known" in lines[2]


def test_nothing_after_the_fork() -> None:
    wal = parse_waldump("pg_waldump: error: could not find a valid record after 0/3000060\n")
    assert wal.records == 0 and wal.end_lsn is None and describe(wal) == []
