"""StreamArchiver and open_stream: byte streams in and out of repositories."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drkit.errors import UsageError
from drkit.repository.fanout import Destination
from drkit.repository.filecache import FileCache
from drkit.repository.repo import Repository
from drkit.repository.stream import StreamArchiver, find_stream, list_streams, open_stream
from drkit.repository.writer import BlobWriter
from drkit.storage.local import LocalBackend
from drkit.storage.memory import MemoryBackend
from tests.conftest import Runner

MiB = 1024 * 1024


def _dest(repo: Repository) -> Destination:
    return Destination(repo, BlobWriter(repo), FileCache(None))


def _blocks(data: bytes, sizes: tuple[int, ...] = (1, 7000, 65536, 3 * MiB)) -> Iterator[bytes]:
    """``data`` cut into blocks of varying sizes, as a pipe would deliver it."""
    pos, i = 0, 0
    while pos < len(data):
        step = sizes[i % len(sizes)]
        yield data[pos : pos + step]
        pos, i = pos + step, i + 1


def _random_blocks(seed: int, total: int, block: int = MiB) -> Iterator[bytes]:
    rnd = random.Random(seed)
    for _ in range(total // block):
        yield rnd.randbytes(block)


def test_round_trip_keeps_bytes_paths_and_meta() -> None:
    repo = Repository.init(MemoryBackend(), "pw")
    big = random.Random(1).randbytes(9 * MiB + 123)
    archiver = StreamArchiver(
        [_dest(repo)],
        paths=["/postgres/app"],
        tags=["db"],
        host="h1",
        meta={"source.type": "postgres", "postgres.database": "app"},
    )
    assert archiver.add("/postgres/app/app.dump", _blocks(big), mode=0o640) == len(big)
    assert archiver.add("/postgres/app/globals.sql", [b"CREATE ROLE x;\n"]) == 15
    assert archiver.add("/empty", iter(())) == 0
    [snap] = archiver.commit()

    again = Repository.open(repo.backend, "pw")
    again.load_index()
    stored = again.load_snapshot(snap.id)
    assert stored.meta == {"source.type": "postgres", "postgres.database": "app"}
    assert (stored.paths, stored.tags, stored.hostname) == (["/postgres/app"], ["db"], "h1")
    assert b"".join(open_stream(again, stored, "/postgres/app/app.dump")) == big
    assert b"".join(open_stream(again, stored, "/postgres/app/globals.sql")) == b"CREATE ROLE x;\n"
    assert b"".join(open_stream(again, stored, "/empty")) == b""
    node = find_stream(again, stored, "/postgres/app/app.dump")
    assert (node.size, node.mode) == (len(big), 0o640)
    assert len(node.content) > 2  # chunked, not one blob
    assert [p for p, _ in list_streams(again, stored)] == [
        "/empty",
        "/postgres/app/app.dump",
        "/postgres/app/globals.sql",
    ]
    assert stored.summary.files_total == 3 and stored.summary.bytes_total == len(big) + 15


def test_a_snapshot_without_meta_has_no_meta_key() -> None:
    repo = Repository.init(MemoryBackend(), "pw")
    archiver = StreamArchiver([_dest(repo)], paths=["/x"], tags=[])
    archiver.add("/x", [b"data"])
    [snap] = archiver.commit()
    assert "meta" not in snap.to_json()
    assert repo.load_snapshot(snap.id).meta == {}


def test_fan_out_gives_each_repository_the_same_snapshot_identity() -> None:
    repos = [Repository.init(MemoryBackend(), f"pw{i}") for i in range(3)]
    data = random.Random(2).randbytes(5 * MiB)
    archiver = StreamArchiver([_dest(r) for r in repos], paths=["/s"], tags=["t"])
    archiver.add("/s/data", _blocks(data))
    snaps = archiver.commit()
    assert len({s.id for s in snaps}) == 1 and len({s.time for s in snaps}) == 1
    assert len({s.tree for s in snaps}) == 3  # trees name each repository's own ids
    for repo, snap in zip(repos, snaps, strict=True):
        assert [s.id for s in repo.snapshots()] == [snap.id]
        assert b"".join(open_stream(repo, snap, "/s/data")) == data


def test_a_second_backup_of_the_same_stream_adds_almost_nothing() -> None:
    repo = Repository.init(MemoryBackend(), "pw")
    data = random.Random(3).randbytes(8 * MiB)
    first = StreamArchiver([_dest(repo)], paths=["/s"], tags=[])
    first.add("/s", _blocks(data))
    [one] = first.commit()
    second = StreamArchiver([_dest(repo)], paths=["/s"], tags=[])
    second.add("/s", _blocks(data, (4096, 999_999)))  # other block sizes, same bytes
    [two] = second.commit([one])
    assert two.parent == one.id
    assert two.summary.data_blobs_added == 0


def test_a_large_stream_is_stored_in_bounded_memory(tmp_path: Path) -> None:
    repo = Repository.init(LocalBackend(tmp_path / "repo"), "pw")
    total = 192 * MiB
    archiver = StreamArchiver([_dest(repo)], paths=["/big"], tags=[])
    tracemalloc.start()
    try:
        archiver.add("/big", _random_blocks(5, total))
        [snap] = archiver.commit()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the chunker's buffer, the queued chunks and a producer block: far below the stream
    assert peak < 48 * MiB, f"peak {peak / MiB:.1f} MiB while storing {total // MiB} MiB"
    digest = hashlib.sha256()
    for block in open_stream(repo, snap, "/big"):
        digest.update(block)
    want = hashlib.sha256()
    for block in _random_blocks(5, total):
        want.update(block)
    assert digest.hexdigest() == want.hexdigest()


def test_abort_leaves_no_snapshot() -> None:
    repo = Repository.init(MemoryBackend(), "pw")
    archiver = StreamArchiver([_dest(repo)], paths=["/s"], tags=[])
    archiver.add("/s/a", _blocks(random.Random(6).randbytes(3 * MiB)))
    archiver.abort()
    archiver.abort()  # idempotent
    assert repo.snapshots() == []
    with pytest.raises(UsageError):
        archiver.commit()


def test_a_producer_failing_mid_stream_saves_nothing() -> None:
    repo = Repository.init(MemoryBackend(), "pw")

    def failing() -> Iterator[bytes]:
        yield random.Random(7).randbytes(6 * MiB)
        raise RuntimeError("pg_dump: error: query failed")

    with (
        pytest.raises(RuntimeError, match="query failed"),
        StreamArchiver([_dest(repo)], paths=["/s"], tags=[]) as archiver,
    ):
        archiver.add("/s", failing())
        archiver.commit()
    assert repo.snapshots() == []


def test_leaving_the_block_without_commit_saves_nothing() -> None:
    repo = Repository.init(MemoryBackend(), "pw")
    with StreamArchiver([_dest(repo)], paths=["/s"], tags=[]) as archiver:
        archiver.add("/s", [b"abc"])
    assert repo.snapshots() == []


@pytest.mark.parametrize("path", ["relative", "/a/../b", "/", "/x/"])
def test_stream_paths_must_be_absolute_and_normalised(path: str) -> None:
    repo = Repository.init(MemoryBackend(), "pw")
    archiver = StreamArchiver([_dest(repo)], paths=["/s"], tags=[])
    if path == "/x/":  # a trailing slash names the same stream as /x
        archiver.add(path, [b"1"])
        with pytest.raises(UsageError, match="twice"):
            archiver.add("/x", [b"2"])
    else:
        with pytest.raises(UsageError):
            archiver.add(path, [b"1"])
    archiver.abort()


def test_a_stream_cannot_also_be_a_directory() -> None:
    repo = Repository.init(MemoryBackend(), "pw")
    archiver = StreamArchiver([_dest(repo)], paths=["/s"], tags=[])
    archiver.add("/s/a", [b"1"])
    with pytest.raises(UsageError, match="already a stream"):
        archiver.add("/s/a/b", [b"2"])
    archiver.abort()


def test_open_stream_of_a_missing_path_names_the_snapshot() -> None:
    repo = Repository.init(MemoryBackend(), "pw")
    archiver = StreamArchiver([_dest(repo)], paths=["/s"], tags=[])
    archiver.add("/s/a", [b"1"])
    [snap] = archiver.commit()
    with pytest.raises(UsageError, match=snap.short_id):
        list(open_stream(repo, snap, "/s/b"))
    with pytest.raises(UsageError):
        list(open_stream(repo, snap, "/s"))  # a directory is not a stream


def test_check_read_data_and_restore_accept_a_stream_snapshot(
    initialized: Runner, repo_dir: Path, tmp_path: Path
) -> None:
    repo = Repository.open(LocalBackend(repo_dir), "correct horse battery staple")
    repo.load_index()
    data = random.Random(8).randbytes(7 * MiB + 5)
    archiver = StreamArchiver(
        [_dest(repo)], paths=["/db"], tags=["db"], meta={"source.type": "test"}
    )
    archiver.add("/db/dump", _blocks(data), mtime=datetime(2024, 1, 2, tzinfo=UTC))
    [snap] = archiver.commit()
    initialized("check", "--read-data").check()
    initialized("restore", snap.short_id, "--target", str(tmp_path / "out")).check()
    assert (tmp_path / "out" / "db" / "dump").read_bytes() == data


def test_stream_module_imports_no_cli() -> None:
    code = (
        "import sys, drkit.repository.stream\n"
        "print(any(m.startswith('drkit.cli') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
