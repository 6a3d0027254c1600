"""Recovery windows come from commit times in the WAL, not from when it was archived.

The archive lags (archive_command sleeps before pushing), so every segment is
stored seconds after its last commit. ``check --chain`` must name the last commit
as the end of the window, and ``pg restore`` must refuse a --target-time between
that commit and the archive time, which PostgreSQL could not reach.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

from drkit.sources.wal_format import HEADER_SIZE, WalHeader
from drkit.sources.wal_records import unix_ns_time
from tests.fixtures.pgcluster import PgLab, RowWriter

LAG_S = 3


def test_archive_lag_does_not_stretch_the_recovery_window(pglab: PgLab) -> None:
    primary = pglab.cluster(archive_command=f"sleep {LAG_S}; {pglab.archive_command()}")
    writer = RowWriter(primary)
    writer.start()
    time.sleep(0.3)
    done = pglab.drkit("pg", "basebackup", "--dsn", primary.dsn, "--archive-timeout", "120")
    assert done.returncode == 0, done.stderr
    time.sleep(0.5)
    writer.stop()
    last_row: datetime = primary.one("select max(at) from pitr")
    primary.wait_archived(primary.switch_wal(), timeout=120)
    switched: datetime = primary.one("select clock_timestamp()")

    newest = max(p for p in (pglab.repo / "wal").iterdir() if len(p.name.split("-")[1]) == 24)
    header = WalHeader.decode(newest.read_bytes()[:HEADER_SIZE])
    committed, pushed = unix_ns_time(header.last_xact_ns), unix_ns_time(header.pushed_ns)
    assert committed is not None and pushed is not None
    assert last_row <= committed <= switched  # the switch's own txid_current() commits last
    assert pushed - committed >= timedelta(seconds=LAG_S)  # the lag the old estimate used

    done = pglab.drkit("check", "--chain", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    (chain,) = json.loads(done.stdout)["chain"]["backups"]
    reach = datetime.fromisoformat(chain["reachable_until_time"])
    assert chain["reachable_time_exact"] and reach == committed
    text = pglab.drkit("check", "--chain").stdout
    assert f"{committed:%Y-%m-%d %H:%M:%S}" in text and "last commit" in text

    beyond = (committed + timedelta(seconds=1)).isoformat()  # before `pushed`: once accepted
    refused = pglab.base / "beyond"
    done = pglab.drkit("pg", "restore", "--to", str(refused), "--target-time", beyond)
    assert done.returncode == 25, done.stderr
    assert "last transaction recorded" in done.stderr
    assert committed.isoformat()[:19] in done.stderr
    assert not refused.exists()

    target = last_row - timedelta(milliseconds=200)
    datadir = pglab.base / "within"
    done = pglab.drkit("pg", "restore", "--to", str(datadir), "--target-time", target.isoformat())
    assert done.returncode == 0, done.stderr
    restored = pglab.restored(datadir, "within")
    restored.wait_promoted()
    newest_row: datetime = restored.one("select max(at) from pitr")
    assert newest_row <= target < last_row
