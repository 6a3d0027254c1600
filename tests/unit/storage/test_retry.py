"""RetryBackend against a flaky in-memory backend; sleeping is recorded, never done."""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from drkit.errors import (
    ObjectNotFound,
    StorageError,
    StorageFull,
    TransientStorageError,
    UsageError,
)
from drkit.repository.blob import BlobType
from drkit.repository.repo import Repository
from drkit.repository.writer import BlobWriter
from drkit.storage.base import Backend, Buffer, FileKind, ObjectInfo
from drkit.storage.local import LocalBackend
from drkit.storage.memory import MemoryBackend
from drkit.storage.registry import open_backend
from drkit.storage.retry import RetryBackend, RetryPolicy
from tests.storage.contract import BackendContract

PACK = "ab" * 32


class FlakyBackend(Backend):
    """A backend (default: in memory) whose chosen operations fail with TransientStorageError.

    ``fail_first={"load": 2}`` fails the first two loads; ``fail_every=N`` fails
    every N-th call of every operation. A failing ``save_file`` deletes the
    file it was given (the worst a real backend may do) and a failing ``list``
    yields one object before it fails, so a restart would show duplicates.
    """

    def __init__(
        self,
        fail_first: dict[str, int] | None = None,
        *,
        fail_every: int = 0,
        error: Exception | None = None,
        inner: Backend | None = None,
    ) -> None:
        self.inner = inner or MemoryBackend("memory:flaky")
        self.location = self.inner.location
        self.calls: Counter[str] = Counter()
        self.raised: list[Exception] = []
        self.files_given: list[Path] = []
        self._left = Counter(fail_first or {})
        self._every = fail_every
        self._error = error
        self._lock = threading.Lock()

    def _should_fail(self, op: str) -> bool:
        with self._lock:
            self.calls[op] += 1
            if self._left[op] > 0:
                self._left[op] -= 1
                return True
            return bool(self._every) and self.calls[op] % self._every == 0

    def _fail(self, op: str) -> None:
        if self._should_fail(op):
            self._raise(op)

    def _raise(self, op: str) -> None:
        exc = self._error or TransientStorageError(
            f"{op}: connection reset (call {self.calls[op]})"
        )
        self.raised.append(exc)
        raise exc

    def create(self) -> None:
        self._fail("create")
        self.inner.create()

    def save(self, kind: FileKind, name: str, parts: Sequence[Buffer]) -> None:
        self._fail("save")
        self.inner.save(kind, name, parts)

    def save_file(self, kind: FileKind, name: str, path: Path) -> None:
        self.files_given.append(path)
        if self._should_fail("save_file"):
            path.unlink()
            self._raise("save_file")
        self.inner.save_file(kind, name, path)

    def load(self, kind: FileKind, name: str, offset: int = 0, length: int | None = None) -> bytes:
        self._fail("load")
        return self.inner.load(kind, name, offset, length)

    def stat(self, kind: FileKind, name: str) -> ObjectInfo:
        self._fail("stat")
        return self.inner.stat(kind, name)

    def list(self, kind: FileKind) -> Iterator[ObjectInfo]:
        failing = self._should_fail("list")
        for i, info in enumerate(self.inner.list(kind)):
            if failing and i == 1:
                self._raise("list")
            yield info

    def remove(self, kind: FileKind, name: str) -> None:
        self._fail("remove")
        self.inner.remove(kind, name)

    def staging_dir(self) -> Path | None:
        return self.inner.staging_dir()

    def remove_staging(self) -> int:
        return self.inner.remove_staging()


class Sleeps(list[float]):
    """Records the pauses RetryBackend asks for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def wrap(flaky: Backend, attempts: int = 6, sleep: Sleeps | None = None) -> RetryBackend:
    policy = RetryPolicy(attempts=attempts, base_delay=0.2, max_delay=10.0)
    return RetryBackend(
        flaky, policy, sleep=sleep if sleep is not None else Sleeps(), rand=lambda: 1.0
    )


def stage(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / ".tmp-pack-test"
    path.write_bytes(data)
    return path


# -- retrying ------------------------------------------------------------------
def test_a_call_is_retried_until_it_succeeds() -> None:
    flaky = FlakyBackend({"load": 2})
    flaky.inner.save(FileKind.INDEX, "i1", [b"payload"])
    sleeps = Sleeps()
    assert wrap(flaky, sleep=sleeps).load(FileKind.INDEX, "i1", 1, 3) == b"ayl"
    assert flaky.calls["load"] == 3
    assert sleeps == [0.2, 0.4]


@pytest.mark.parametrize(
    ("op", "call"),
    [
        ("create", lambda b: b.create()),
        ("save", lambda b: b.save(FileKind.SNAPSHOT, "s1", [b"a", b"b"])),
        ("stat", lambda b: b.stat(FileKind.SNAPSHOT, "s1")),
        ("stat", lambda b: b.exists(FileKind.SNAPSHOT, "s1")),
        ("remove", lambda b: b.remove(FileKind.SNAPSHOT, "s1")),
    ],
)
def test_every_operation_is_retried(op: str, call: object) -> None:
    flaky = FlakyBackend({op: 3})
    flaky.inner.save(FileKind.SNAPSHOT, "s1", [b"ab"])
    call(wrap(flaky))  # type: ignore[operator]
    assert flaky.calls[op] == 4
    assert len(flaky.raised) == 3


def test_the_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=8, base_delay=1.0, max_delay=5.0)
    assert [policy.delay(n, lambda: 1.0) for n in range(1, 7)] == [1, 2, 4, 5, 5, 5]
    assert policy.delay(3, lambda: 0.25) == 1.0  # full jitter: a fraction of the ceiling
    assert policy.delay(5000, lambda: 1.0) == 5.0  # no overflow on silly attempt counts


def test_the_jitter_comes_from_the_random_source() -> None:
    flaky = FlakyBackend({"stat": 2})
    flaky.inner.save(FileKind.KEY, "k", [b"x"])
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=10.0)
    RetryBackend(flaky, policy, sleep=sleeps, rand=lambda: 0.5).stat(FileKind.KEY, "k")
    assert sleeps == [0.5, 1.0]


def test_it_gives_up_after_the_limit_with_the_last_error() -> None:
    flaky = FlakyBackend({"save": 100})
    sleeps = Sleeps()
    with pytest.raises(TransientStorageError) as caught:
        wrap(flaky, attempts=3, sleep=sleeps).save(FileKind.INDEX, "i1", [b"x"])
    assert flaky.calls["save"] == 3
    assert caught.value is flaky.raised[-1]
    assert "call 3" in caught.value.message
    assert caught.value.hint == (
        "gave up after 3 attempts: the storage target did not answer reliably; try again later"
    )
    assert caught.value.exit_code == 15
    assert len(sleeps) == 2  # no pause after the last attempt
    assert not flaky.inner.exists(FileKind.INDEX, "i1")


def test_one_attempt_means_no_retry() -> None:
    flaky = FlakyBackend({"load": 1})
    with pytest.raises(TransientStorageError) as caught:
        wrap(flaky, attempts=1).load(FileKind.INDEX, "i1")
    assert flaky.calls["load"] == 1
    assert caught.value.hint.startswith("gave up after 1 attempt: ")


def test_a_hint_of_the_backend_is_kept_when_it_gives_up() -> None:
    error = TransientStorageError("503 SlowDown", hint="the bucket is throttled")
    flaky = FlakyBackend({"remove": 9}, error=error)
    with pytest.raises(TransientStorageError) as caught:
        wrap(flaky, attempts=2).remove(FileKind.LOCK, "l1")
    assert caught.value.hint == "gave up after 2 attempts; the bucket is throttled"


@pytest.mark.parametrize(
    "error",
    [
        StorageError("permission denied"),
        StorageFull("the disk is full"),
        ObjectNotFound("index/i1 does not exist"),
        ValueError("a bug, not an outage"),
    ],
)
def test_other_errors_pass_through_at_once(error: Exception) -> None:
    flaky = FlakyBackend({"save": 5}, error=error)
    sleeps = Sleeps()
    with pytest.raises(type(error)) as caught:
        wrap(flaky, sleep=sleeps).save(FileKind.INDEX, "i1", [b"x"])
    assert caught.value is error
    assert flaky.calls["save"] == 1
    assert sleeps == []


def test_a_missing_object_is_not_retried() -> None:
    flaky = FlakyBackend()
    with pytest.raises(ObjectNotFound):
        wrap(flaky).load(FileKind.SNAPSHOT, "nope")
    assert flaky.calls["load"] == 1


def test_each_retry_is_logged_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    flaky = FlakyBackend({"save": 2})
    with caplog.at_level(logging.WARNING, logger="drkit.storage"):
        wrap(flaky).save(FileKind.SNAPSHOT, "s1", [b"x"])
    warnings = [r for r in caplog.records if r.name == "drkit.storage"]
    assert [r.levelno for r in warnings] == [logging.WARNING, logging.WARNING]
    first, second = (r.getMessage() for r in warnings)
    assert "save snapshots/s1" in first
    assert "attempt 1 of 6" in first and "attempt 2 of 6" in second
    assert "connection reset (call 1)" in first
    assert "retrying in 0.20 s" in first


# -- save_file -----------------------------------------------------------------
def test_save_file_keeps_the_staged_file_until_an_attempt_succeeds(tmp_path: Path) -> None:
    flaky = FlakyBackend({"save_file": 3})
    staged = stage(tmp_path, b"pack bytes" * 1000)
    present_while_waiting: list[bool] = []
    backend = RetryBackend(
        flaky, RetryPolicy(), sleep=lambda _: present_while_waiting.append(staged.exists())
    )
    backend.save_file(FileKind.PACK, PACK, staged)
    assert present_while_waiting == [True, True, True]
    assert flaky.inner.load(FileKind.PACK, PACK) == b"pack bytes" * 1000
    assert not staged.exists()
    assert staged not in flaky.files_given  # the backend only ever got spare names
    assert os.listdir(tmp_path) == []  # no spare copy left behind


def test_save_file_leaves_the_staged_file_when_it_gives_up(tmp_path: Path) -> None:
    flaky = FlakyBackend({"save_file": 10})
    staged = stage(tmp_path, b"pack")
    with pytest.raises(TransientStorageError):
        wrap(flaky, attempts=4).save_file(FileKind.PACK, PACK, staged)
    assert flaky.calls["save_file"] == 4
    assert os.listdir(tmp_path) == [staged.name]  # the caller discards it
    assert staged.read_bytes() == b"pack"


def test_save_file_copies_when_hard_links_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr("drkit.storage.retry.os.link", no_links)
    flaky = FlakyBackend({"save_file": 1})
    staged = stage(tmp_path, b"copied" * 10)
    wrap(flaky).save_file(FileKind.PACK, PACK, staged)
    assert flaky.inner.load(FileKind.PACK, PACK) == b"copied" * 10
    assert os.listdir(tmp_path) == []


def test_save_file_of_a_missing_staged_file_is_a_plain_storage_error(tmp_path: Path) -> None:
    flaky = FlakyBackend()
    with pytest.raises(StorageError) as caught:
        wrap(flaky).save_file(FileKind.PACK, PACK, tmp_path / "gone")
    assert not isinstance(caught.value, TransientStorageError)
    assert flaky.calls["save_file"] == 0


def test_save_file_through_the_local_backend_moves_the_pack_into_place(tmp_path: Path) -> None:
    local = LocalBackend(tmp_path / "repo")
    local.create()
    backend = wrap(local)
    staging = backend.staging_dir()
    assert staging == tmp_path / "repo" / "data"
    staged = stage(staging, b"local pack")
    backend.save_file(FileKind.PACK, PACK, staged)
    assert local.load(FileKind.PACK, PACK) == b"local pack"
    assert (tmp_path / "repo" / "data" / "ab" / PACK).stat().st_nlink == 1
    assert not [p for p in os.listdir(staging) if p.startswith(".tmp-")]


# -- list ----------------------------------------------------------------------
def test_list_restarts_from_the_beginning_after_a_failure() -> None:
    flaky = FlakyBackend({"list": 2})
    for i in range(5):
        flaky.inner.save(FileKind.SNAPSHOT, f"s{i}", [b"x" * i])
    flaky.inner.save(FileKind.INDEX, "other", [b"x"])
    listed = list(wrap(flaky).list(FileKind.SNAPSHOT))
    assert sorted(listed, key=lambda o: o.name) == [ObjectInfo(f"s{i}", i) for i in range(5)]
    assert flaky.calls["list"] == 3
    assert len(flaky.raised) == 2


def test_list_gives_up_like_any_call() -> None:
    flaky = FlakyBackend({"list": 9})
    for i in range(3):
        flaky.inner.save(FileKind.LOCK, f"l{i}", [b"x"])
    with pytest.raises(TransientStorageError):
        list(wrap(flaky, attempts=2).list(FileKind.LOCK))
    assert flaky.calls["list"] == 2


# -- delegation, configuration, registry -----------------------------------------
def test_the_rest_is_delegated(tmp_path: Path) -> None:
    local = LocalBackend(tmp_path / "repo")
    local.create()
    (tmp_path / "repo" / "index" / ".tmp-leftover").write_bytes(b"")
    closed: list[bool] = []
    local.close = lambda: closed.append(True)  # type: ignore[method-assign]
    backend = wrap(local)
    assert backend.location == local.location
    assert backend.staging_dir() == local.staging_dir()
    assert backend.remove_staging() == 1
    backend.close()
    assert closed == [True]


def test_the_policy_comes_from_the_environment() -> None:
    env = {
        "DRKIT_RETRY_ATTEMPTS": "2",
        "DRKIT_RETRY_BASE_DELAY": "0.01",
        "DRKIT_RETRY_MAX_DELAY": "0.05",
    }
    assert RetryPolicy.from_env(env) == RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05)
    assert RetryPolicy.from_env({}) == RetryPolicy(attempts=6, base_delay=0.2, max_delay=10.0)


def test_a_wrapper_without_a_policy_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRKIT_RETRY_ATTEMPTS", "3")
    flaky = FlakyBackend({"stat": 10})
    with pytest.raises(TransientStorageError):
        RetryBackend(flaky, sleep=Sleeps()).stat(FileKind.KEY, "k")
    assert flaky.calls["stat"] == 3


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DRKIT_RETRY_ATTEMPTS": "many"}, "DRKIT_RETRY_ATTEMPTS"),
        ({"DRKIT_RETRY_ATTEMPTS": "0"}, "DRKIT_RETRY_ATTEMPTS"),
        ({"DRKIT_RETRY_BASE_DELAY": "soon"}, "DRKIT_RETRY_BASE_DELAY"),
        ({"DRKIT_RETRY_MAX_DELAY": "-1"}, "DRKIT_RETRY_MAX_DELAY"),
        ({"DRKIT_RETRY_BASE_DELAY": "nan"}, "DRKIT_RETRY_BASE_DELAY"),
    ],
)
def test_a_bad_environment_value_is_a_usage_error(env: dict[str, str], named: str) -> None:
    with pytest.raises(UsageError) as caught:
        RetryPolicy.from_env(env)
    assert named in f"{caught.value.message} {caught.value.hint}"


def test_open_backend_wraps_every_backend_but_memory(tmp_path: Path) -> None:
    backend = open_backend(str(tmp_path / "repo"))
    assert isinstance(backend, RetryBackend)
    assert isinstance(backend.inner, LocalBackend)
    assert backend.location == str(tmp_path / "repo")
    assert isinstance(open_backend("memory:"), MemoryBackend)


# -- the Backend contract still holds over a backend that fails every other call ----
# Every second call fails, counted across all threads: with 8 threads at once one
# operation can meet several failing turns in a row, so allow more attempts here.
CONTRACT_ATTEMPTS = 40


class TestRetryOverFlakyLocal(BackendContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Backend:
        local = LocalBackend(tmp_path / "repo")
        local.create()
        return wrap(FlakyBackend(fail_every=2, inner=local), attempts=CONTRACT_ATTEMPTS)

    def reopen(self, backend: Backend) -> Backend:
        assert isinstance(backend, RetryBackend) and isinstance(backend.inner, FlakyBackend)
        return wrap(
            FlakyBackend(fail_every=2, inner=backend.inner.inner), attempts=CONTRACT_ATTEMPTS
        )


# -- a whole write over a backend that fails every third call ----------------------
def test_blobs_written_over_a_flaky_backend_read_back_intact() -> None:
    flaky = FlakyBackend(fail_every=3)
    backend = wrap(flaky)
    repo = Repository.init(backend, "pw")
    writer = BlobWriter(repo, pack_size=1 << 20)
    blobs = [os.urandom(200_000 + i) for i in range(24)]
    ids = [writer.save(BlobType.DATA, blob)[0] for blob in blobs]
    writer.flush()
    assert writer.stats.packs >= 3
    assert flaky.calls["save_file"] > writer.stats.packs  # some pack uploads were retried

    again = Repository.open(backend, "pw")
    again.load_index()
    assert [again.load_blob(i) for i in ids] == blobs
