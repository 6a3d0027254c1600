"""The storage Backend contract, as one test suite every driver must pass.

A driver's test module subclasses :class:`BackendContract` as ``Test<Driver>``
and provides a ``backend`` fixture: a fresh, created, empty Backend. Drivers
whose objects outlive the Python object (a folder, a bucket) also override
:meth:`BackendContract.reopen` so the suite checks a second instance sees the
same repository.

Names follow the repository: content-named kinds get 64 hex digits (a pack's
first two digits pick its folder), the config object is called ``config``.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from drkit.errors import ObjectNotFound, RepositoryExists
from drkit.storage.base import Backend, FileKind, ObjectInfo

MiB = 1024 * 1024
NAMED_KINDS = [kind for kind in FileKind if kind is not FileKind.CONFIG]


def data_of(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def name_of(data: bytes, salt: str = "") -> str:
    """The 64-hex-digit name of ``data``, as the repository would derive it."""
    return hashlib.sha256(salt.encode() + data).hexdigest()


def name_for(kind: FileKind, data: bytes, salt: str = "") -> str:
    return "config" if kind is FileKind.CONFIG else name_of(data, salt)


def listing(backend: Backend, kind: FileKind) -> dict[str, int]:
    """``list(kind)`` as name -> size; fails on a name listed twice."""
    infos = list(backend.list(kind))
    assert all(isinstance(info, ObjectInfo) for info in infos)
    names = [info.name for info in infos]
    assert len(names) == len(set(names)), f"{kind.value} listed a name twice: {names}"
    return {info.name: info.size for info in infos}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BackendContract:
    """Tests every Backend must pass. Subclasses provide the ``backend`` fixture."""

    def reopen(self, backend: Backend) -> Backend:
        """A second Backend object on the same location (default: the same object)."""
        return backend

    def stage(self, backend: Backend, tmp_path: Path, data: bytes) -> Path:
        """Write ``data`` to a staging file the way the pack writer does."""
        folder = backend.staging_dir() or tmp_path
        fd, name = tempfile.mkstemp(prefix=".tmp-pack-", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return Path(name)

    # -- a fresh backend ---------------------------------------------------
    def test_fresh_backend_is_empty(self, backend: Backend) -> None:
        for kind in FileKind:
            assert listing(backend, kind) == {}, kind
        assert not backend.exists(FileKind.CONFIG, "config")
        assert isinstance(backend.location, str) and backend.location

    # -- save / load -------------------------------------------------------
    @pytest.mark.parametrize("kind", list(FileKind), ids=lambda k: k.name)
    def test_round_trip_every_kind(self, backend: Backend, kind: FileKind) -> None:
        data = data_of(5000, seed=len(kind.value))
        name = name_for(kind, data)
        backend.save(kind, name, [data])
        assert backend.load(kind, name) == data
        assert backend.stat(kind, name) == ObjectInfo(name, len(data))
        assert backend.exists(kind, name)
        assert self.reopen(backend).load(kind, name) == data

    def test_empty_object(self, backend: Backend) -> None:
        name = name_of(b"", "empty")
        backend.save(FileKind.SNAPSHOT, name, [])
        assert backend.load(FileKind.SNAPSHOT, name) == b""
        assert backend.load(FileKind.SNAPSHOT, name, 0, 10) == b""
        assert backend.stat(FileKind.SNAPSHOT, name).size == 0
        assert listing(backend, FileKind.SNAPSHOT) == {name: 0}

    def test_save_from_parts_equals_the_join(self, backend: Backend) -> None:
        parts: list[bytes | bytearray | memoryview] = [
            b"head-",
            bytearray(b"middle-"),
            b"",
            memoryview(data_of(70_000, seed=3))[100:60_100],
            b"-tail",
        ]
        whole = b"".join(bytes(p) for p in parts)
        name = name_of(whole)
        backend.save(FileKind.PACK, name, parts)
        assert backend.load(FileKind.PACK, name) == whole
        assert backend.stat(FileKind.PACK, name).size == len(whole) == 60_012 + 5

    def test_save_from_many_small_parts(self, backend: Backend) -> None:
        parts = [i.to_bytes(4, "big") * (1 + i % 7) for i in range(3000)]
        whole = b"".join(parts)
        name = name_of(whole)
        backend.save(FileKind.PACK, name, parts)
        assert sha256(backend.load(FileKind.PACK, name)) == sha256(whole)
        assert backend.stat(FileKind.PACK, name).size == len(whole)

    def test_load_with_offset_and_length(self, backend: Backend) -> None:
        data = data_of(1000, seed=4)
        name = name_of(data)
        backend.save(FileKind.PACK, name, [data])
        load = backend.load
        assert load(FileKind.PACK, name, 10, 20) == data[10:30]
        assert load(FileKind.PACK, name, 0, 1) == data[:1]
        assert load(FileKind.PACK, name, 5) == data[5:]
        assert load(FileKind.PACK, name, 999) == data[999:]
        assert load(FileKind.PACK, name, 980, 20) == data[980:]  # exactly to the end
        assert load(FileKind.PACK, name, 990, 20) == data[990:]  # crosses the end
        assert load(FileKind.PACK, name, 1000) == b""  # at the end
        assert load(FileKind.PACK, name, 1000, 10) == b""
        assert load(FileKind.PACK, name, 5000, 10) == b""  # past the end
        assert load(FileKind.PACK, name, 5000) == b""
        assert load(FileKind.PACK, name, 10, 0) == b""
        assert load(FileKind.PACK, name, 0, 5000) == data

    # -- missing objects ---------------------------------------------------
    @pytest.mark.parametrize("kind", list(FileKind), ids=lambda k: k.name)
    def test_missing_object_is_object_not_found(self, backend: Backend, kind: FileKind) -> None:
        name = name_for(kind, b"never saved")
        with pytest.raises(ObjectNotFound):
            backend.load(kind, name)
        with pytest.raises(ObjectNotFound):
            backend.load(kind, name, 10, 5)
        with pytest.raises(ObjectNotFound):
            backend.stat(kind, name)
        assert backend.exists(kind, name) is False

    def test_same_name_in_two_kinds_are_two_objects(self, backend: Backend) -> None:
        name = name_of(b"shared name")
        backend.save(FileKind.KEY, name, [b"a key"])
        backend.save(FileKind.SNAPSHOT, name, [b"a snapshot"])
        assert backend.load(FileKind.KEY, name) == b"a key"
        assert backend.load(FileKind.SNAPSHOT, name) == b"a snapshot"
        backend.remove(FileKind.KEY, name)
        assert not backend.exists(FileKind.KEY, name)
        assert backend.load(FileKind.SNAPSHOT, name) == b"a snapshot"

    # -- remove ------------------------------------------------------------
    def test_remove_is_idempotent(self, backend: Backend) -> None:
        data = b"to be removed"
        name = name_of(data)
        backend.remove(FileKind.INDEX, name)  # never existed: not an error
        backend.save(FileKind.INDEX, name, [data])
        keep = name_of(b"kept")
        backend.save(FileKind.INDEX, keep, [b"kept"])
        backend.remove(FileKind.INDEX, name)
        with pytest.raises(ObjectNotFound):
            backend.stat(FileKind.INDEX, name)
        backend.remove(FileKind.INDEX, name)  # already gone
        assert listing(backend, FileKind.INDEX) == {keep: 4}
        backend.remove(FileKind.CONFIG, "config")  # missing config too
        assert listing(backend, FileKind.CONFIG) == {}

    # -- list --------------------------------------------------------------
    def test_list_returns_exactly_the_saved_objects_per_kind(self, backend: Backend) -> None:
        expected: dict[FileKind, dict[str, int]] = {}
        for n, kind in enumerate(FileKind):
            count = 1 if kind is FileKind.CONFIG else 3 + n
            expected[kind] = {}
            for i in range(count):
                data = data_of(100 * n + 7 * i + 1, seed=100 * n + i)
                name = name_for(kind, data, salt=kind.value)
                backend.save(kind, name, [data])
                expected[kind][name] = len(data)
        for kind in FileKind:
            assert listing(backend, kind) == expected[kind], kind
        other = self.reopen(backend)
        for kind in FileKind:
            assert listing(other, kind) == expected[kind], kind

    def test_list_spreads_packs_over_folders(self, backend: Backend) -> None:
        """Packs in the same two-digit folder and in different folders are all listed."""
        names = ["00" + "a" * 62, "00" + "b" * 62, "ff" + "c" * 62, "7e" + "d" * 62]
        for i, name in enumerate(names):
            backend.save(FileKind.PACK, name, [b"x" * (i + 1)])
        assert listing(backend, FileKind.PACK) == {n: i + 1 for i, n in enumerate(names)}
        backend.remove(FileKind.PACK, names[0])
        assert listing(backend, FileKind.PACK) == {n: i + 1 for i, n in enumerate(names) if i}

    # -- overwrite rules ---------------------------------------------------
    def test_saving_a_lock_again_replaces_it(self, backend: Backend) -> None:
        name = name_of(b"lock name")
        backend.save(FileKind.LOCK, name, [b"first version of the lock"])
        backend.save(FileKind.LOCK, name, [b"second"])
        assert backend.load(FileKind.LOCK, name) == b"second"
        assert backend.stat(FileKind.LOCK, name).size == len(b"second")
        assert listing(backend, FileKind.LOCK) == {name: len(b"second")}

    @pytest.mark.parametrize("kind", NAMED_KINDS, ids=lambda k: k.name)
    def test_saving_the_same_content_twice_is_idempotent(
        self, backend: Backend, kind: FileKind
    ) -> None:
        data = data_of(3000, seed=9)
        name = name_of(data)
        backend.save(kind, name, [data])
        backend.save(kind, name, [data[:1000], data[1000:]])
        assert backend.load(kind, name) == data
        assert listing(backend, kind) == {name: len(data)}

    # -- save_file ---------------------------------------------------------
    def test_save_file_moves_a_staged_file(self, backend: Backend, tmp_path: Path) -> None:
        data = data_of(200_000, seed=11)
        staged = self.stage(backend, tmp_path, data)
        name = name_of(data)
        backend.save_file(FileKind.PACK, name, staged)
        assert not staged.exists()
        assert backend.load(FileKind.PACK, name) == data
        assert listing(backend, FileKind.PACK) == {name: len(data)}

    def test_staged_files_are_never_listed(self, backend: Backend, tmp_path: Path) -> None:
        staged = self.stage(backend, tmp_path, b"half a pack")
        for kind in FileKind:
            assert listing(backend, kind) == {}, kind
        name = name_of(b"half a pack")
        backend.save_file(FileKind.PACK, name, staged)
        assert listing(backend, FileKind.PACK) == {name: len(b"half a pack")}

    def test_remove_staging_keeps_complete_objects(self, backend: Backend, tmp_path: Path) -> None:
        saved = {}
        for kind in FileKind:
            data = data_of(64, seed=len(kind.value))
            saved[kind] = name_for(kind, data)
            backend.save(kind, saved[kind], [data])
        left_over = self.stage(backend, tmp_path, b"left by a crashed writer")
        removed = backend.remove_staging()
        assert isinstance(removed, int) and removed >= 0
        for kind, name in saved.items():
            assert listing(backend, kind) == {name: 64}, kind
        if backend.staging_dir() is not None:  # the backend owns its staging folder
            assert removed == 1 and not left_over.exists()

    # -- large objects -----------------------------------------------------
    def test_large_object_by_save(self, backend: Backend) -> None:
        data = data_of(40 * MiB, seed=12)
        name = name_of(data)
        backend.save(FileKind.PACK, name, [data[: 17 * MiB], memoryview(data)[17 * MiB :]])
        assert backend.stat(FileKind.PACK, name).size == len(data)
        assert sha256(backend.load(FileKind.PACK, name)) == sha256(data)
        tail = backend.load(FileKind.PACK, name, len(data) - 100, 1000)
        assert tail == data[-100:]
        middle = backend.load(FileKind.PACK, name, 20 * MiB - 3, 2 * MiB)
        assert middle == data[20 * MiB - 3 : 22 * MiB - 3]

    def test_large_object_by_save_file(self, backend: Backend, tmp_path: Path) -> None:
        data = data_of(40 * MiB, seed=13)
        staged = self.stage(backend, tmp_path, data)
        name = name_of(data)
        backend.save_file(FileKind.PACK, name, staged)
        assert not staged.exists()
        assert backend.stat(FileKind.PACK, name).size == len(data)
        assert sha256(backend.load(FileKind.PACK, name)) == sha256(data)
        assert backend.load(FileKind.PACK, name, 9 * MiB, 10) == data[9 * MiB : 9 * MiB + 10]

    # -- concurrency -------------------------------------------------------
    def test_concurrent_use(self, backend: Backend) -> None:
        kinds = NAMED_KINDS

        def work(worker: int) -> dict[tuple[FileKind, str], bytes]:
            mine: dict[tuple[FileKind, str], bytes] = {}
            for i in range(6):
                kind = kinds[(worker + i) % len(kinds)]
                data = data_of(1000 + 977 * i + worker, seed=1000 * worker + i)
                name = name_of(data, salt=f"{worker}-{i}")
                backend.save(kind, name, [data])
                mine[(kind, name)] = data
                assert backend.load(kind, name) == data
                assert backend.stat(kind, name).size == len(data)
                assert name in listing(backend, kind)
            return mine

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(work, range(8)))
        everything = {key: data for result in results for key, data in result.items()}
        assert len(everything) == 48
        for kind in kinds:
            expected = {name: len(d) for (k, name), d in everything.items() if k is kind}
            assert listing(backend, kind) == expected, kind
        for (kind, name), data in everything.items():
            assert backend.load(kind, name) == data

    def test_objects_being_written_are_never_listed(self, backend: Backend) -> None:
        """A lister running beside a writer sees only complete objects."""
        objects = [data_of(6 * MiB + i, seed=20 + i) for i in range(4)]
        expected = {name_of(data): len(data) for data in objects}
        seen: dict[str, set[int]] = {}
        done = threading.Event()

        def write() -> None:
            try:
                for data in objects:
                    backend.save(FileKind.PACK, name_of(data), [data])
            finally:
                done.set()

        writer = threading.Thread(target=write)
        writer.start()
        lists = 0
        while not done.is_set() or lists == 0:
            for name, size in listing(backend, FileKind.PACK).items():
                seen.setdefault(name, set()).add(size)
            lists += 1
        writer.join()
        assert set(seen) <= set(expected), f"unexpected names listed: {set(seen) - set(expected)}"
        for name, sizes in seen.items():
            assert sizes == {expected[name]}, f"{name} listed with partial sizes {sizes}"
        assert listing(backend, FileKind.PACK) == expected

    # -- create ------------------------------------------------------------
    def test_create_on_an_existing_repository_raises(self, backend: Backend) -> None:
        backend.save(FileKind.CONFIG, "config", [b"sealed config"])
        backend.save(FileKind.KEY, name_of(b"slot"), [b"slot"])
        with pytest.raises(RepositoryExists):
            backend.create()
        with pytest.raises(RepositoryExists):
            self.reopen(backend).create()
        assert backend.load(FileKind.CONFIG, "config") == b"sealed config"
        assert listing(backend, FileKind.KEY) == {name_of(b"slot"): 4}
