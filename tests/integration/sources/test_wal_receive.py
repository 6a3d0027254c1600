# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as parameters
"""Streaming WAL with pg_receivewal on a real cluster: `drkit pg receive-wal`.

The cluster's archive_command archives only backup history files (which
pg_receivewal does not stream), so every segment in the repository came by
streaming. pg_receivewal killed again and again mid-stream is started again
and resumes with no gap: the chain check reads every object and passes, and
a restore from the base backup plus the streamed WAL has every row. Without
a slot, WAL the server recycled while no receiver ran is a gap the receiver
names and exits on (36), and the chain check fails; a missing slot and a
refused replication connection end it at once (35), saying so.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.fixtures.pgcluster import (
    PgCluster,
    PgLab,
    RowWriter,
    drkit_script,
    pglab,  # noqa: F401
)


def _histories_only(lab: PgLab) -> str:
    """archive_command that archives backup history files only: segments come by streaming."""
    return f"case %f in *.backup) {lab.archive_command()} ;; esac"


def _receiver(lab: PgLab, cluster: PgCluster, *args: str) -> tuple[subprocess.Popen[str], Path]:
    folder, spool = lab.base / "received", lab.base / "spool"
    folder.mkdir(exist_ok=True)
    spool.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [str(drkit_script()), "pg", "receive-wal", "--dsn", cluster.dsn, "--dir", str(folder),
         "--spool", str(spool), "--poll", "0.05", "--restart-delay", "0.2", "--json", *args],
        env=lab.drkit_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lab.cleanups.append(lambda: _end(proc))
    return proc, folder


def _end(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _state(folder: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((folder / ".receiver.json").read_text()))
    except (OSError, ValueError):
        return {}


def _wait(what: str, ok: Any, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        if proc.poll() is not None:
            raise AssertionError(f"receive-wal ended ({proc.returncode}) before {what}: "
                                 f"{proc.stderr.read() if proc.stderr else ''}")  # fmt: skip
        assert time.monotonic() < deadline, f"no {what} in {timeout} s"
        time.sleep(0.05)


def _in_repo(lab: PgLab, sysid: int, segment: str) -> bool:
    return (lab.repo / "wal" / f"{sysid}-{segment}").exists()


def test_streamed_wal_survives_killed_receivers_and_restores_every_row(pglab: PgLab) -> None:
    cluster = pglab.cluster(archive_command=_histories_only(pglab))
    sysid = cluster.one("select system_identifier from pg_control_system()")
    proc, folder = _receiver(pglab, cluster, "--slot", "drkit", "--create-slot")
    _wait("pg_receivewal running", lambda: _state(folder).get("running"), proc)
    assert cluster.one("select count(*) from pg_replication_slots where slot_name = 'drkit'") == 1
    done = pglab.drkit("pg", "basebackup", "--dsn", cluster.dsn, "--json")
    assert done.returncode == 0, done.stderr

    writer = RowWriter(cluster, interval=0.001)
    writer.start()
    killed = 0
    for _ in range(3):  # pg_receivewal killed mid-segment, each time started again
        _wait("a partial segment", lambda: _state(folder).get("partial"), proc)
        before = _state(folder)
        time.sleep(0.3)
        cluster.switch_wal()
        time.sleep(0.2)
        pid = int(_state(folder)["pid"])
        subprocess.run(["kill", "-KILL", str(pid)], check=True)
        killed += 1
        restarts = before["restarts"] + 1
        _wait("a restart", lambda r=restarts: _state(folder).get("restarts", 0) >= r, proc)
        _wait("running again", lambda: _state(folder).get("running"), proc)
    rows = writer.stop()
    last = cluster.switch_wal()
    _wait(f"{last} in the repository", lambda: _in_repo(pglab, sysid, last), proc)
    _wait("the lag measured", lambda: _state(folder).get("lag_bytes") is not None, proc)
    state = _state(folder)
    assert state["restarts"] == killed and "killed by SIGKILL" in state["last_exit"]
    assert state["handed_off_total"] >= 4

    # no segment came by archive_command: only the backup history file did
    archived = cluster.archiver()
    assert archived[0] >= 1 and archived[1] == 0
    chain = pglab.drkit("check", "--chain", "--read-data", "--json")
    assert chain.returncode == 0, chain.stdout + chain.stderr
    assert json.loads(chain.stdout)["chain"]["backups"][0]["status"] == "ok"

    restored_dir = pglab.base / "restored"
    done = pglab.drkit("pg", "restore", "--to", str(restored_dir), "--latest", "--json")
    assert done.returncode == 0, done.stderr
    restored = pglab.restored(restored_dir, "restored")
    restored.wait_promoted()
    ids = [row[0] for row in restored.sql("select id from pitr order by id")]
    assert ids == list(range(1, rows + 1))

    # pg check: its forced segment arrives by streaming; it reports the receiver
    checked = pglab.drkit("pg", "check", "--dsn", cluster.dsn, "--receive-dir", str(folder),
                          "--json")  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    receiver = json.loads(checked.stdout)["receiver"]
    assert receiver["seen"] and receiver["running"] and receiver["restarts"] == killed

    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out)["running"] is False
    stopped = pglab.drkit("pg", "check", "--dsn", cluster.dsn, "--receive-dir", str(folder),
                          "--timeout", "2")  # fmt: skip
    assert stopped.returncode == 28 and "receive-wal is not running" in stopped.stderr


def test_wal_recycled_before_it_was_received_is_a_gap_that_fails_loudly(pglab: PgLab) -> None:
    cluster = pglab.cluster(archive_command=_histories_only(pglab))
    sysid = cluster.one("select system_identifier from pg_control_system()")
    proc, folder = _receiver(pglab, cluster, "--slot", "first", "--create-slot")
    _wait("pg_receivewal running", lambda: _state(folder).get("running"), proc)
    assert pglab.drkit("pg", "basebackup", "--dsn", cluster.dsn).returncode == 0
    cluster.sql("create table t (x int)")
    first = cluster.switch_wal()
    _wait(f"{first} in the repository", lambda: _in_repo(pglab, sysid, first), proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0

    # the slot is dropped and, while no receiver runs, the server recycles its WAL
    cluster.sql("select pg_drop_replication_slot('first')")
    for _ in range(6):
        cluster.sql("insert into t select g from generate_series(1, 20000) g")
        cluster.switch_wal()
    cluster.sql("checkpoint")
    cluster.sql("checkpoint")
    proc, folder = _receiver(pglab, cluster)  # resumes after the segment it kept
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 36, err  # wal-stream-gap
    assert "removed WAL segment" in err and "gap" in err
    lost = err.split("removed WAL segment ")[1].split()[0]

    # streaming again from the server's position (the hint: an emptied folder) leaves the
    # gap in the archive, and the chain check names it
    for name in folder.iterdir():
        name.unlink()
    proc, folder = _receiver(pglab, cluster, "--slot", "second", "--create-slot")
    _wait("pg_receivewal running", lambda: _state(folder).get("running"), proc)
    cluster.sql("insert into t values (1)")
    later = cluster.switch_wal()
    _wait(f"{later} in the repository", lambda: _in_repo(pglab, sysid, later), proc)
    assert not _in_repo(pglab, sysid, lost)
    chain = pglab.drkit("check", "--chain", "--json")
    assert chain.returncode == 25, chain.stdout + chain.stderr  # the backup chain is broken
    assert lost in chain.stdout


def test_a_missing_slot_and_a_refused_connection_end_the_receiver_saying_so(
    pglab: PgLab,
) -> None:
    cluster = pglab.cluster()
    proc, _folder = _receiver(pglab, cluster, "--slot", "nosuch")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 35 and "replication slot 'nosuch' does not exist" in err, err
    assert "--create-slot" in err

    cluster.sql("create role plain login")  # may connect, may not replicate
    dsn = cluster.dsn.replace("user=postgres", "user=plain")
    folder, spool = pglab.base / "received", pglab.base / "spool"
    done = subprocess.run(
        [str(drkit_script()), "pg", "receive-wal", "--dsn", dsn, "--dir", str(folder),
         "--spool", str(spool), "--no-push"],
        env=pglab.drkit_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 35, done.stderr
    assert "refuses the replication connection" in done.stderr
    assert "REPLICATION" in done.stderr  # the hint names what is missing
