"""The spool's own logic: order of need, a file kept until stored, the lag it reports."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from drkit.errors import StorageError
from drkit.repository.repo import Repository
from drkit.sources.wal_archive import WalArchive
from drkit.sources.wal_spool import (
    PusherState,
    metrics_text,
    observe,
    pending,
    push_round,
    read_state,
    spool_file,
)
from drkit.storage.memory import MemoryBackend
from tests.unit.sources.test_wal_archive import SYSID, segment


@pytest.fixture
def repo() -> Repository:
    return Repository.init(MemoryBackend(), "secret")


def _spool(tmp_path: Path, *names: str) -> Path:
    spool, wal = tmp_path / "spool", tmp_path / "pg_wal"
    spool.mkdir()
    wal.mkdir()
    for name in names:
        (wal / name).write_bytes(segment() if len(name) == 24 else b"1\t0/3000000\tno target\n")
        spool_file(spool, wal / name, pgdata=tmp_path, system_id=SYSID)
    return spool


def test_history_files_go_first_then_segments_in_wal_order(tmp_path: Path) -> None:
    names = ["000000020000000000000004", "00000002.history", "000000010000000000000003"]
    spool = _spool(tmp_path, *names)
    assert [p.name.partition("-")[2] for p in pending(spool)] == [
        "00000002.history",
        "000000010000000000000003",
        "000000020000000000000004",
    ]


def test_a_file_leaves_the_spool_only_once_stored(tmp_path: Path, repo: Repository) -> None:
    spool = _spool(tmp_path, "000000010000000000000003", "000000010000000000000004")

    class Down(WalArchive):
        def push(self, system_id: int, wal_name: str, data: bytes):  # type: ignore[no-untyped-def]
            raise StorageError("the repository is down")

    state = PusherState()
    with ThreadPoolExecutor(2) as pool:
        assert push_round(Down(repo), spool, pool, state) == 0
        assert len(pending(spool)) == 2 and "the repository is down" in (state.last_error or "")
        assert push_round(WalArchive(repo), spool, pool, state) == 2
    assert pending(spool) == []
    archived = [f.name for f in WalArchive(repo).list(SYSID)]
    assert archived == ["000000010000000000000003", "000000010000000000000004"]


def test_the_lag_written_for_pg_check_and_prometheus(tmp_path: Path) -> None:
    spool = _spool(tmp_path, "000000010000000000000003")
    state = observe(spool, PusherState())
    assert (state.pending, state.pending_bytes) == (1, 16 * 1024 * 1024)
    assert read_state(spool) == state
    assert "drkit_wal_spool_pending 1\n" in metrics_text(state)
