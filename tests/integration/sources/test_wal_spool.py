"""Asynchronous archiving on a real cluster: archive_command spools, the pusher sends.

A pusher killed with SIGKILL in the middle of the spool loses nothing: the
next one pushes what is left and the backup chain is complete.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from tests.fixtures.pgcluster import PgLab, chown_postgres, drkit_script


def _pusher(lab: PgLab, spool: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(drkit_script()), "pg", "archive-pusher", "--spool", str(spool), "--poll", "0.05",
         *args],
        env=lab.drkit_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _spooled(spool: Path) -> list[str]:
    return sorted(p.name for p in spool.iterdir() if not p.name.startswith("."))


def test_a_killed_pusher_loses_no_spooled_segment(pglab: PgLab) -> None:
    spool = pglab.base / "spool"
    spool.mkdir()
    chown_postgres(spool)
    command = pglab.archive_command().replace("wal-push %p", f"wal-push --spool {spool} %p")
    cluster = pglab.cluster(archive_command=command)
    cluster.sql("create table t (x int)")
    pusher = _pusher(pglab, spool, "--workers", "2")
    done = pglab.drkit("pg", "basebackup", "--dsn", cluster.dsn, "--json")
    assert done.returncode == 0, done.stderr  # its WAL reached the repository via the pusher
    checked = pglab.drkit("pg", "check", "--dsn", cluster.dsn, "--spool", str(spool), "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["spool"]["pusher_seen"] is True
    pusher.send_signal(signal.SIGTERM)
    assert pusher.wait(timeout=60) == 0, pusher.stderr.read() if pusher.stderr else ""

    # no pusher: archive_command still succeeds at once, the spool fills, pg check says so
    segments = []
    for _ in range(8):
        cluster.sql("insert into t select g from generate_series(1, 20000) g")
        segments.append(cluster.switch_wal())
    cluster.wait_archived(segments[-1])
    assert len(_spooled(spool)) >= 8
    stalled = pglab.drkit("pg", "check", "--dsn", cluster.dsn, "--spool", str(spool),
                          "--timeout", "1")  # fmt: skip
    assert stalled.returncode == 28 and "the spool holds" in stalled.stderr, stalled.stderr

    # a pusher killed mid-drain, then a new one: every segment arrives, the chain is whole
    before = len(_spooled(spool))
    pusher = _pusher(pglab, spool, "--workers", "1")
    deadline = time.monotonic() + 120
    while len(_spooled(spool)) >= before and time.monotonic() < deadline:
        time.sleep(0.005)
    pusher.kill()
    pusher.wait(timeout=30)
    left = _spooled(spool)
    assert 0 < len(left) < before  # killed in the middle of the spool
    again = pglab.drkit("pg", "archive-pusher", "--spool", str(spool), "--once", "--json")
    assert again.returncode == 0, again.stderr
    assert _spooled(spool) == [] and json.loads(again.stdout)["pending"] == 0
    sysid = cluster.one("select system_identifier from pg_control_system()")
    for name in segments:
        assert (pglab.repo / "wal" / f"{sysid}-{name}").exists(), name
    chain = pglab.drkit("check", "--chain", "--read-data", "--json")
    assert chain.returncode == 0, chain.stdout + chain.stderr
    report = json.loads(chain.stdout)["chain"]
    assert report["backups"][0]["status"] == "ok"
