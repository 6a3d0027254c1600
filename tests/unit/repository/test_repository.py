"""Repository, keys, locks and writer over the in-memory backend."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from datetime import UTC, datetime

import pytest

from drkit.errors import RepositoryExists, RepositoryLocked, RepositoryNotFound, WrongPassword
from drkit.repository.blob import BlobType
from drkit.repository.keys import add_key_slot, list_key_slots
from drkit.repository.locks import LOCK_AAD, RepoLock, read_locks, remove_stale_locks
from drkit.repository.repo import Repository
from drkit.repository.writer import BlobWriter
from drkit.storage.base import FileKind
from drkit.storage.memory import MemoryBackend


@pytest.fixture
def repo() -> Repository:
    return Repository.init(MemoryBackend(), "secret")


def test_open_needs_the_right_passphrase(repo: Repository) -> None:
    again = Repository.open(repo.backend, "secret")
    assert again.config == repo.config and again.master == repo.master
    with pytest.raises(WrongPassword):
        Repository.open(repo.backend, "wrong")


def test_init_twice_and_open_missing() -> None:
    backend = MemoryBackend()
    Repository.init(backend, "a")
    with pytest.raises(RepositoryExists):
        Repository.init(backend, "b")
    with pytest.raises(RepositoryNotFound):
        Repository.open(MemoryBackend(), "a")


def test_second_key_slot_opens_same_master(repo: Repository) -> None:
    add_key_slot(repo.backend, repo.master, "other")
    assert Repository.open(repo.backend, "other").master == repo.master
    assert len(list_key_slots(repo.backend)) == 2


def test_writer_dedups_and_indexes_after_flush(repo: Repository) -> None:
    writer = BlobWriter(repo, pack_size=1024)
    ids = [writer.save(BlobType.DATA, os.urandom(600))[0] for _ in range(5)]
    dup_id, added = writer.save(BlobType.DATA, b"x")
    assert added
    assert writer.save(BlobType.DATA, b"x") == (dup_id, False)
    writer.flush()
    assert all(i in repo.index for i in [*ids, dup_id])
    reopened = Repository.open(repo.backend, "secret")
    reopened.load_index()
    assert len(reopened.index) == 6
    assert reopened.load_blob(dup_id) == b"x"
    assert len(list(repo.backend.list(FileKind.PACK))) >= 3


def test_concurrent_saves_store_each_blob_once(repo: Repository) -> None:
    writer = BlobWriter(repo)
    data = [bytes([i]) * 5000 for i in range(20)]

    def worker() -> None:
        for d in data:
            writer.save(BlobType.DATA, d)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.flush()
    assert writer.stats.data_blobs == 20


def test_exclusive_lock_conflicts_with_shared(repo: Repository) -> None:
    with RepoLock(repo, exclusive=False, operation="backup"):
        with RepoLock(repo, exclusive=False, operation="backup"):
            assert len(read_locks(repo)) == 2
        with pytest.raises(RepositoryLocked) as info:
            RepoLock(repo, exclusive=True, operation="prune").acquire()
        assert "backup" in info.value.message
    assert read_locks(repo) == []
    with RepoLock(repo, exclusive=True, operation="prune"):
        pass


def test_stale_lock_of_dead_process_is_ignored_and_removable(repo: Repository) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    doc = {
        "exclusive": True,
        "hostname": socket.gethostname(),
        "pid": dead.pid,
        "username": "x",
        "time": datetime.now(UTC).isoformat(),
        "operation": "prune",
    }
    sealed = repo.sealer.seal(json.dumps(doc).encode(), LOCK_AAD)
    repo.backend.save(FileKind.LOCK, "dead", [sealed])
    with RepoLock(repo, exclusive=True, operation="prune"):
        pass  # not blocked by the dead process's lock
    assert read_locks(repo) == []  # and it was removed as it was met
    live = RepoLock(repo, exclusive=False, operation="backup")
    live.acquire()
    repo.backend.save(FileKind.LOCK, "dead", [sealed])
    removed = remove_stale_locks(repo)
    assert [lk.id for lk in removed] == ["dead"]
    assert [lk.id for lk in read_locks(repo)] == [live.lock_id]
    live.release()
