"""SQLite backups with the online backup API, while a writer keeps committing."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import Runner


def _make_db(path: Path, journal_mode: str) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"pragma journal_mode={journal_mode}")
        conn.execute("create table items (id integer primary key, payload text not null)")
        conn.execute("create table counter (n integer not null)")
        conn.execute("insert into counter values (0)")
        conn.executemany(
            "insert into items values (?, ?)", [(i, f"{i}:" + "x" * 500) for i in range(1, 5001)]
        )
        conn.execute("update counter set n = 5000")
        conn.commit()


class _Writer(threading.Thread):
    """Commits one row plus the counter per transaction until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.stop, self.commits = path, threading.Event(), 0

    def run(self) -> None:
        with closing(sqlite3.connect(self.path, timeout=60)) as conn:
            n = 5000
            while not self.stop.is_set():
                n += 1
                with conn:  # one transaction: the row and the counter together
                    conn.execute("insert into items values (?, ?)", (n, f"{n}:" + "y" * 500))
                    conn.execute("update counter set n = ?", (n,))
                self.commits += 1


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_a_backup_while_a_writer_commits_restores_a_consistent_prefix(
    initialized: Runner, tmp_path: Path, journal_mode: str
) -> None:
    db = tmp_path / "live.db"
    _make_db(db, journal_mode)
    writer = _Writer(db)
    writer.start()
    try:
        while writer.commits < 50:  # the writer is well under way before the backup starts
            threading.Event().wait(0.01)
        before = writer.commits
        done = json.loads(initialized("db", "backup", f"sqlite://{db}", "--json").check().stdout)
        after = writer.commits
    finally:
        writer.stop.set()
        writer.join()
    assert done["meta"]["sqlite.journal_mode"] == journal_mode
    assert after > before  # it really was committing while the backup ran

    restored = tmp_path / "restored" / "app.db"
    initialized("db", "restore", "latest", "--to", str(restored)).check()
    with closing(sqlite3.connect(restored)) as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        (n,) = conn.execute("select n from counter").fetchone()
        ids = [r[0] for r in conn.execute("select id from items order by id")]
    assert ids == list(range(1, n + 1))  # exactly the rows of one committed state
    assert 5000 + before <= n <= 5000 + after  # a state from while the backup ran


def test_a_restore_over_an_existing_file_needs_force(initialized: Runner, tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    _make_db(db, "wal")
    initialized("db", "backup", f"sqlite://{db}").check()
    target = tmp_path / "other.db"
    with closing(sqlite3.connect(target)) as conn:
        conn.execute("create table mine (x)")
    Path(f"{target}-wal").write_bytes(b"stale wal that must not be applied")
    refused = initialized("db", "restore", "latest", "--to", str(target))
    assert refused.returncode == 22, refused.stderr
    initialized("db", "restore", "latest", "--to", str(target), "--force").check()
    assert not Path(f"{target}-wal").exists()
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("select count(*) from items").fetchone() == (5000,)
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)


def test_a_missing_database_is_unavailable_and_not_created(
    initialized: Runner, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.db"
    failed = initialized("db", "backup", f"sqlite://{missing}")
    assert failed.returncode == 20, failed.stderr
    assert "cannot open the SQLite database" in failed.stderr
    assert not missing.exists()
    assert json.loads(initialized("snapshots", "--json").check().stdout) == []


def test_a_sqlite_file_path_is_recognised_as_a_source(initialized: Runner, tmp_path: Path) -> None:
    db = tmp_path / "plain.sqlite"
    _make_db(db, "delete")
    done = json.loads(initialized("db", "backup", str(db), "--json").check().stdout)
    assert done["paths"] == [f"/sqlite{db}"]


def test_a_database_url_is_never_taken_for_a_local_path(
    initialized: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "app.db"
    _make_db(db, "delete")
    snap = json.loads(initialized("db", "backup", str(db), "--json").check().stdout)
    wrong = initialized("db", "restore", snap["short_id"], "--to", "postgresql://u@h/app")
    assert wrong.returncode == 2, wrong.stderr
    assert "is not a local path" in wrong.stderr
    latest = initialized("db", "restore", "latest", "--to", "postgresql://u@h/app")
    assert latest.returncode == 14, latest.stderr  # no postgres snapshot to restore
    assert not Path("postgresql:").exists()


@pytest.mark.parametrize(("sig", "code", "word"), [("SIGTERM", 143, "terminated"),
                                                    ("SIGINT", 130, "interrupted")])  # fmt: skip
def test_a_signal_stops_a_backup_cleanly(
    drkit_env: dict[str, str], tmp_path: Path, sig: str, code: int, word: str
) -> None:
    """SIGTERM (systemd, `timeout`) is handled as Ctrl-C: temporary copy and lock removed,
    a message, a documented exit code, no snapshot."""
    import glob
    import os
    import signal
    import subprocess
    import sys
    import time

    repo, db, scratch = tmp_path / "repo", tmp_path / "big.db", tmp_path / "scratch"
    scratch.mkdir()
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("create table t (b)")
        conn.execute(
            "with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000) "
            "insert into t select randomblob(100000) from c"
        )
        conn.commit()
    base = [sys.executable, "-m", "drkit", "--repo", str(repo)]
    subprocess.run([*base, "init"], env=drkit_env, check=True, capture_output=True)
    spec = f"{{type: sqlite, path: {db}, temp_dir: {scratch}}}"
    proc = subprocess.Popen(
        [*base, "db", "backup", spec], env=drkit_env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not (glob.glob(f"{scratch}/drkit-sqlite-*") and os.listdir(repo / "locks")):
        assert proc.poll() is None and time.monotonic() < deadline, "the backup ended early"
        time.sleep(0.01)
    proc.send_signal(getattr(signal, sig))
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    assert word in stderr and "Traceback" not in stderr
    assert os.listdir(scratch) == []  # the temporary copy is gone
    assert os.listdir(repo / "locks") == []  # and the lock
    listing = subprocess.run([*base, "snapshots", "--json"], env=drkit_env, capture_output=True)
    assert json.loads(listing.stdout) == []
