"""Prune against a real repository in memory: marking, sweeping, refusals and crashes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from drkit.errors import IntegrityError
from drkit.repository import prune as prune_module
from drkit.repository.blob import BlobType
from drkit.repository.compression import Compression
from drkit.repository.prune import (
    PruneOptions,
    PruneResult,
    find_used_blobs,
    plan_repository,
    prune,
)
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.tree import Node, NodeType, encode_tree
from drkit.repository.writer import BlobWriter
from drkit.storage.base import FileKind
from drkit.storage.memory import MemoryBackend

PASSWORD = "pw"
CHUNK = 16 * 1024
PACK_SIZE = 64 * 1024
Files = dict[str, bytes]
_clock = iter(datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=i) for i in range(10_000))


# ------------------------------------------------------------------------------ helpers


def new_repo() -> Repository:
    return Repository.init(MemoryBackend(), PASSWORD)


def reopen(repo: Repository) -> Repository:
    fresh = Repository.open(repo.backend, PASSWORD)
    fresh.load_index()
    return fresh


def random_files(seed: int, count: int = 3, size: int = 40 * 1024) -> Files:
    rnd = random.Random(seed)
    return {f"f{seed}-{i}": rnd.randbytes(size) for i in range(count)}


def save_files(writer: BlobWriter, files: Files) -> bytes:
    nodes = []
    for name, data in sorted(files.items()):
        ids = [
            writer.save(BlobType.DATA, data[i : i + CHUNK])[0] for i in range(0, len(data), CHUNK)
        ]
        nodes.append(Node(name, NodeType.FILE, size=len(data), content=ids))
    sub, _ = writer.save(BlobType.TREE, encode_tree(nodes))
    root, _ = writer.save(BlobType.TREE, encode_tree([Node("d", NodeType.DIR, subtree=sub)]))
    return root


def backup(repo: Repository, files: Files) -> Snapshot:
    """A snapshot of ``/d`` holding ``files``; data chunked at 16 KiB into 64 KiB packs."""
    writer = BlobWriter(repo, Compression.parse("off"), pack_size=PACK_SIZE)
    root = save_files(writer, files)
    writer.flush()
    snap = Snapshot(time=next(_clock), tree=root, paths=["/d"], hostname="h", username="u")
    repo.save_snapshot(snap)
    return snap


def read_back(repo: Repository, snap: Snapshot) -> Files:
    return {
        path.rsplit("/", 1)[1]: b"".join(repo.load_blob(i) for i in node.content)
        for path, node in repo.walk(snap.tree)
        if node.type is NodeType.FILE
    }


def objects(repo: Repository) -> dict[tuple[FileKind, str], bytes]:
    return {
        (kind, info.name): repo.backend.load(kind, info.name)
        for kind in FileKind
        for info in repo.backend.list(kind)
    }


def stored_bytes(repo: Repository) -> int:
    return sum(info.size for info in repo.backend.list(FileKind.PACK))


def sealed_copies(repo: Repository) -> dict[bytes, bytes]:
    """blob id -> its sealed bytes, from wherever the index says it is."""
    return {
        blob_id: repo.backend.load(FileKind.PACK, loc.pack, loc.offset, loc.length)
        for blob_id, loc in repo.index.items()
    }


def assert_consistent(repo: Repository, expected: dict[str, Files]) -> Repository:
    """Reopened from storage: every snapshot reads back, every index entry opens."""
    fresh = reopen(repo)
    stored = {info.name for info in fresh.backend.list(FileKind.PACK)}
    for pack, blobs in fresh.index.packs().items():
        assert pack in stored, f"index names missing pack {pack[:12]}"
        for blob in blobs:
            fresh.load_blob(blob.id)
    snaps = fresh.snapshots()
    assert {s.id for s in snaps} == set(expected)
    for snap in snaps:
        assert read_back(fresh, snap) == expected[snap.id]
    return fresh


def run_prune(repo: Repository, max_unused: float = 10.0, dry_run: bool = False) -> PruneResult:
    fresh = reopen(repo)
    return prune(fresh, PruneOptions(max_unused=max_unused, pack_size=PACK_SIZE, dry_run=dry_run))


@pytest.fixture
def three_snapshots() -> Iterator[tuple[Repository, list[Snapshot], list[Files]]]:
    """Snapshots of three trees sharing one file each with the next."""
    repo = new_repo()
    shared = random_files(100, count=1)
    trees = [{**random_files(seed), **shared} for seed in (1, 2, 3)]
    snaps = [backup(repo, files) for files in trees]
    yield repo, snaps, trees


# -------------------------------------------------------------------------------- tests


def test_prune_removes_forgotten_data_and_keeps_the_rest(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
) -> None:
    repo, snaps, trees = three_snapshots
    gone = set(find_used_blobs(reopen(repo), [snaps[0]])) - find_used_blobs(reopen(repo), snaps[1:])
    before = stored_bytes(repo)
    repo.remove_snapshot(snaps[0].id)

    result = run_prune(repo)

    assert result.packs_removed > 0 and result.plan.stats.blobs_removed >= len(gone) > 0
    assert stored_bytes(repo) < before
    assert result.bytes_freed == before - stored_bytes(repo)
    fresh = assert_consistent(repo, {s.id: t for s, t in zip(snaps[1:], trees[1:], strict=True)})
    assert not any(blob_id in fresh.index for blob_id in gone)
    assert len(fresh.index_files) == result.index_files_written  # the old ones are gone


def test_a_second_prune_has_nothing_to_do(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
) -> None:
    repo, snaps, _ = three_snapshots
    repo.remove_snapshot(snaps[1].id)
    assert run_prune(repo).plan.changes_anything
    again = run_prune(repo)
    assert not again.plan.changes_anything
    assert again.packs_removed == 0


def test_repacking_copies_sealed_bytes_unchanged(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
) -> None:
    repo, snaps, trees = three_snapshots
    before = sealed_copies(reopen(repo))
    repo.remove_snapshot(snaps[0].id)

    result = run_prune(repo, max_unused=0)

    assert result.plan.repack, "the scenario must repack something"
    assert result.packs_written > 0
    fresh = assert_consistent(repo, {s.id: t for s, t in zip(snaps[1:], trees[1:], strict=True)})
    after = sealed_copies(fresh)
    moved = {b.id for blobs in result.plan.repack.values() for b in blobs}
    assert moved <= set(after)
    for blob_id, sealed in after.items():
        assert sealed == before[blob_id]


def test_max_unused_100_deletes_but_never_repacks(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
) -> None:
    repo, snaps, trees = three_snapshots
    repo.remove_snapshot(snaps[0].id)
    result = run_prune(repo, max_unused=100)
    assert not result.plan.repack and result.packs_written == 0
    assert_consistent(repo, {s.id: t for s, t in zip(snaps[1:], trees[1:], strict=True)})


def test_dry_run_changes_nothing(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
) -> None:
    repo, snaps, _ = three_snapshots
    repo.remove_snapshot(snaps[0].id)
    before = objects(repo)

    result = run_prune(repo, max_unused=0, dry_run=True)

    assert result.dry_run and result.plan.changes_anything
    assert result.bytes_freed == result.plan.stats.bytes_freed > 0
    assert objects(repo) == before


def test_exclude_plans_as_if_snapshots_were_forgotten(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
) -> None:
    repo, snaps, _ = three_snapshots
    assert not plan_repository(reopen(repo), 10).changes_anything
    plan = plan_repository(reopen(repo), 10, exclude={snaps[0].id})
    assert plan.changes_anything and plan.stats.blobs_removed > 0


def test_unindexed_packs_are_removed(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
) -> None:
    repo, snaps, trees = three_snapshots
    repo.backend.save(FileKind.PACK, "ab" * 32, [b"left by a crashed backup"])
    result = run_prune(repo)
    assert result.plan.unindexed == ("ab" * 32,)
    assert not result.plan.rewrites_index and result.index_files_written == 0
    assert not repo.backend.exists(FileKind.PACK, "ab" * 32)
    assert_consistent(repo, {s.id: t for s, t in zip(snaps, trees, strict=True)})


def test_duplicate_copies_are_collapsed() -> None:
    repo = new_repo()
    files = random_files(7)
    first = BlobWriter(repo, Compression.parse("off"), pack_size=PACK_SIZE)
    second = BlobWriter(repo, Compression.parse("off"), pack_size=PACK_SIZE)
    root = save_files(first, files)
    assert save_files(second, files) == root  # neither saw the other's index: two copies
    first.flush()
    second.flush()
    snap = Snapshot(time=next(_clock), tree=root, paths=["/d"], hostname="h", username="u")
    repo.save_snapshot(snap)

    def entries(r: Repository) -> list[bytes]:
        return [b.id for blobs in r.index.packs().values() for b in blobs]

    assert len(entries(reopen(repo))) == 2 * len(set(entries(reopen(repo))))
    run_prune(repo)
    fresh = assert_consistent(repo, {snap.id: files})
    assert len(entries(fresh)) == len(set(entries(fresh)))


def test_damaged_blob_stops_before_removing_anything(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
) -> None:
    repo, snaps, _ = three_snapshots
    repo.remove_snapshot(snaps[0].id)
    plan = plan_repository(reopen(repo), 0)
    pack, blobs = next(iter(plan.repack.items()))
    data = bytearray(repo.backend.load(FileKind.PACK, pack))
    data[blobs[0].offset + 20] ^= 0xFF
    repo.backend.save(FileKind.PACK, pack, [bytes(data)])
    before = {k: v for k, v in objects(repo).items() if k[0] in (FileKind.PACK, FileKind.INDEX)}

    with pytest.raises(IntegrityError, match="cannot repack"):
        run_prune(repo, max_unused=0)

    after = objects(repo)
    assert all(after.get(key) == value for key, value in before.items())


def test_lost_blob_refuses(three_snapshots: tuple[Repository, list[Snapshot], list[Files]]) -> None:
    repo, _, _ = three_snapshots
    fresh = reopen(repo)
    some_data_pack = next(
        name
        for name, blobs in fresh.index.packs().items()
        if all(b.type is BlobType.DATA for b in blobs)
    )
    repo.backend.remove(FileKind.PACK, some_data_pack)
    before = objects(repo)
    with pytest.raises(IntegrityError, match="no stored pack"):
        run_prune(repo)
    assert objects(repo) == before


def test_damaged_snapshot_refuses(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
) -> None:
    repo, snaps, _ = three_snapshots
    repo.remove_snapshot(snaps[0].id)
    repo.backend.save(FileKind.SNAPSHOT, "cd" * 32, [b"garbage"])
    before = objects(repo)
    with pytest.raises(IntegrityError, match="cannot be read"):
        run_prune(repo)
    assert objects(repo) == before


def test_trees_are_read_once_each() -> None:
    repo = new_repo()
    files = random_files(5)
    snaps = [backup(repo, files) for _ in range(3)]  # same tree three times
    fresh = reopen(repo)
    calls: list[bytes] = []
    real = fresh.load_tree

    def counting(tree_id: bytes) -> list[Node]:
        calls.append(tree_id)
        return real(tree_id)

    fresh.load_tree = counting  # type: ignore[method-assign]
    used = find_used_blobs(fresh, snaps)
    assert len(calls) == len(set(calls)) == 2  # root and /d
    assert len(used) == 2 + sum(-(-len(d) // CHUNK) for d in files.values())


def test_a_data_blob_equal_to_a_tree_does_not_hide_the_tree() -> None:
    """A file whose bytes are exactly a tree blob: both uses must be followed."""
    repo = new_repo()
    writer = BlobWriter(repo, Compression.parse("off"), pack_size=PACK_SIZE)
    leaf_id, _ = writer.save(BlobType.DATA, b"leaf data")
    sub_bytes = encode_tree([Node("leaf", NodeType.FILE, size=9, content=[leaf_id])])
    sub_id, _ = writer.save(BlobType.TREE, sub_bytes)
    root_nodes = [
        Node("a-file", NodeType.FILE, size=len(sub_bytes), content=[sub_id]),
        Node("z-dir", NodeType.DIR, subtree=sub_id),
    ]
    root_id, _ = writer.save(BlobType.TREE, encode_tree(root_nodes))
    writer.flush()
    snap = Snapshot(time=next(_clock), tree=root_id, paths=["/"], hostname="h", username="u")
    assert find_used_blobs(reopen(repo), [snap]) == {root_id, sub_id, leaf_id}


# ------------------------------------------------------------------------------ crashes


class Crash(BaseException):
    """Stands in for SIGKILL at a crash point."""


@pytest.mark.parametrize(
    ("point", "nth"),
    [
        ("prune-index-written", 1),
        ("prune-old-index-removed", 1),
        ("prune-old-index-removed", 2),
        ("prune-pack-removed", 1),
        ("prune-pack-removed", 2),
    ],
)
def test_a_crash_at_any_point_leaves_a_consistent_repository(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
    monkeypatch: pytest.MonkeyPatch,
    point: str,
    nth: int,
) -> None:
    repo, snaps, trees = three_snapshots
    repo.remove_snapshot(snaps[0].id)
    expected = {s.id: t for s, t in zip(snaps[1:], trees[1:], strict=True)}
    passed: list[str] = []

    def crash_point(name: str) -> None:
        passed.append(name)
        if passed.count(point) == nth and name == point:
            raise Crash(name)

    monkeypatch.setattr(prune_module, "crash_point", crash_point)
    with pytest.raises(Crash):
        run_prune(repo, max_unused=0)
    assert_consistent(repo, expected)

    monkeypatch.setattr(prune_module, "crash_point", lambda name: None)
    run_prune(repo, max_unused=0)
    fresh = assert_consistent(repo, expected)
    assert not run_prune(repo, max_unused=0).plan.changes_anything
    indexed = set(fresh.index.packs())
    assert indexed == {info.name for info in fresh.backend.list(FileKind.PACK)}


def test_crash_points_come_in_the_safe_order(
    three_snapshots: tuple[Repository, list[Snapshot], list[Files]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, snaps, _ = three_snapshots
    repo.remove_snapshot(snaps[0].id)
    passed: list[str] = []
    monkeypatch.setattr(prune_module, "crash_point", passed.append)
    result = run_prune(repo, max_unused=0)
    assert passed == (
        ["prune-index-written"]
        + ["prune-old-index-removed"] * result.index_files_removed
        + ["prune-pack-removed"] * result.packs_removed
    )
    assert result.index_files_removed >= 3 and result.packs_removed >= 2
