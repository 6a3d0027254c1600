"""Checker and DamageMapper on an in-memory repository built blob by blob."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from drkit.repository.blob import BlobType
from drkit.repository.check import Checker, CheckReport, DamageMapper, PackSubset
from drkit.repository.pack import Packer
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.tree import Node, NodeType, encode_tree
from drkit.repository.writer import BlobWriter
from drkit.storage.base import FileKind
from drkit.storage.memory import MemoryBackend

Files = dict[str, Any]  # name -> bytes (a file) or Files (a directory)

TREE = {
    "a.txt": b"alpha " * 100,
    "sub": {"b.bin": b"beta" * 500, "deep": {"c": b"gamma"}},
    "same.txt": b"alpha " * 100,  # shares a.txt's blob
}


@functools.cache
def _template() -> Repository:
    return Repository.init(MemoryBackend(), "pw")


def new_repo() -> Repository:
    """A fresh empty repository; all share one key, so the KDF runs once."""
    template = _template()
    backend = MemoryBackend()
    backend.save(FileKind.CONFIG, "config", [template.backend.load(FileKind.CONFIG, "config")])
    return Repository(backend, template.master, template.config)


@pytest.fixture
def repo() -> Repository:
    return new_repo()


def reopen(repo: Repository) -> Repository:
    """The same repository as a new process sees it: index not loaded."""
    return Repository(repo.backend, repo.master, repo.config)


def save_tree(writer: BlobWriter, files: Files) -> bytes:
    nodes = []
    for name, value in files.items():
        if isinstance(value, dict):
            nodes.append(Node(name, NodeType.DIR, subtree=save_tree(writer, value)))
        else:
            blob, _ = writer.save(BlobType.DATA, value)
            nodes.append(Node(name, NodeType.FILE, size=len(value), content=[blob]))
    tree, _ = writer.save(BlobType.TREE, encode_tree(nodes))
    return tree


def backup(repo: Repository, files: Files) -> Snapshot:
    writer = BlobWriter(repo)
    tree = save_tree(writer, files)
    writer.flush()
    snap = Snapshot(time=datetime.now(UTC), tree=tree, paths=["/"], hostname="h", username="u")
    repo.save_snapshot(snap)
    return snap


def blob_of(repo: Repository, tree: bytes, path: str) -> Node:
    for p, node in reopen_loaded(repo).walk(tree):
        if p == path:
            return node
    raise AssertionError(path)


def reopen_loaded(repo: Repository) -> Repository:
    fresh = reopen(repo)
    fresh.load_index()
    return fresh


def edit(repo: Repository, kind: FileKind, name: str, change: Callable[[bytearray], None]) -> None:
    data = bytearray(repo.backend.load(kind, name))
    change(data)
    repo.backend.save(kind, name, [bytes(data)])


def flip_blob(repo: Repository, blob_id: bytes) -> str:
    loc = reopen_loaded(repo).lookup(blob_id)

    def flip(data: bytearray) -> None:
        data[loc.offset + loc.length // 2] ^= 1

    edit(repo, FileKind.PACK, loc.pack, flip)
    return loc.pack


def run(repo: Repository, read_data: bool = True) -> CheckReport:
    return Checker(reopen(repo), read_data=PackSubset() if read_data else None).run()


def test_healthy_repository_passes(repo: Repository) -> None:
    backup(repo, TREE)
    report = run(repo)
    assert report.ok, report.errors
    assert report.counts.trees == 3
    assert report.counts.packs == report.counts.packs_read == 2
    assert report.counts.blobs == report.counts.blobs_read == 3 + 3  # trees + distinct data


def test_shared_trees_are_walked_once(repo: Repository) -> None:
    backup(repo, TREE)
    backup(repo, {**TREE, "new.txt": b"new"})  # a new root, same "sub" tree
    report = run(repo, read_data=False)
    assert report.ok
    assert report.counts.trees == 3 + 1


def test_damaged_data_blob_maps_to_every_path_sharing_it(repo: Repository) -> None:
    snap = backup(repo, TREE)
    blob = blob_of(repo, snap.tree, "/a.txt").content[0]
    pack = flip_blob(repo, blob)

    assert run(repo, read_data=False).ok
    report = run(repo)

    assert not report.ok
    assert report.damaged_blobs == [blob]
    assert {(p.kind, p.name) for p in report.errors} == {("pack", pack), ("blob", blob.hex())}
    [affected] = report.affected
    assert affected.id == snap.id
    assert [p.path for p in affected.paths] == ["/a.txt", "/same.txt"]


def test_damaged_tree_makes_its_directory_unknown(repo: Repository) -> None:
    snap = backup(repo, TREE)
    sub = blob_of(repo, snap.tree, "/sub").subtree
    assert sub is not None
    flip_blob(repo, sub)

    report = run(repo, read_data=False)

    assert report.damaged_blobs == [sub]
    [affected] = report.affected
    assert [(p.path, "unknown" in p.reason) for p in affected.paths] == [("/sub", True)]
    assert report.counts.trees == 2  # root and sub; deep could not be reached


def test_damaged_root_tree_is_reported_as_slash(repo: Repository) -> None:
    snap = backup(repo, TREE)
    flip_blob(repo, snap.tree)
    [affected] = run(repo, read_data=False).affected
    assert [p.path for p in affected.paths] == ["/"]


def test_missing_pack_loses_its_blobs(repo: Repository) -> None:
    snap = backup(repo, TREE)
    data_pack = reopen_loaded(repo).lookup(blob_of(repo, snap.tree, "/a.txt").content[0]).pack
    repo.backend.remove(FileKind.PACK, data_pack)

    report = run(repo, read_data=False)

    assert ("pack", data_pack) in {(p.kind, p.name) for p in report.errors}
    assert len(report.damaged_blobs) == 3  # a.txt and same.txt share one
    paths = {p.path for p in report.affected[0].paths}
    assert paths == {"/a.txt", "/same.txt", "/sub/b.bin", "/sub/deep/c"}


def test_truncated_pack_loses_only_the_blobs_past_its_end(repo: Repository) -> None:
    snap = backup(repo, {"small": b"s" * 10, "big": b"B" * 300})
    loaded = reopen_loaded(repo)
    small = loaded.lookup(blob_of(repo, snap.tree, "/small").content[0])
    big = loaded.lookup(blob_of(repo, snap.tree, "/big").content[0])
    assert small.pack == big.pack
    keep = max(small.offset + small.length, big.offset + big.length) - 1

    def cut(data: bytearray) -> None:
        del data[keep:]

    edit(repo, FileKind.PACK, big.pack, cut)
    report = run(repo, read_data=False)

    assert any("the index implies" in p.message for p in report.errors)
    assert len(report.damaged_blobs) == 1
    assert len(report.affected[0].paths) == 1


def test_data_blob_missing_from_the_index(repo: Repository) -> None:
    backup(repo, TREE)
    writer = BlobWriter(repo)
    ghost = repo.hash_id(b"never stored")
    tree, _ = writer.save(
        BlobType.TREE, encode_tree([Node("ghost", NodeType.FILE, size=1, content=[ghost])])
    )
    writer.flush()
    snap = Snapshot(datetime.now(UTC), tree, ["/"], "h", "u")
    repo.save_snapshot(snap)

    report = run(repo, read_data=False)

    assert [p.name for p in report.errors] == [ghost.hex()]
    assert "not in the index" in report.errors[0].message
    assert any("repair index" in h for h in report.hints)
    [affected] = report.affected
    assert affected.id == snap.id
    assert [p.path for p in affected.paths] == ["/ghost"]


def test_damaged_index_and_snapshot_files_are_named(repo: Repository) -> None:
    snap = backup(repo, TREE)
    index = next(repo.backend.list(FileKind.INDEX)).name

    def flip(data: bytearray) -> None:
        data[len(data) // 2] ^= 1

    edit(repo, FileKind.INDEX, index, flip)
    edit(repo, FileKind.SNAPSHOT, snap.id, flip)

    report = run(repo)

    assert {(p.kind, p.name) for p in report.errors} == {("index", index), ("snapshot", snap.id)}
    assert len(report.warnings) == 2  # both packs now unindexed
    assert all("repair index" in w.message for w in report.warnings)
    assert report.counts.snapshots == 1


def test_unindexed_pack_is_only_a_warning(repo: Repository) -> None:
    backup(repo, TREE)
    orphan = repo.hash_id(b"orphan")
    packer = Packer(
        repo.sealer,
        1 << 20,
        None,
        # the pack is stored; its index is never written
        lambda pack: repo.backend.save_file(FileKind.PACK, pack.name, pack.path),
    )
    packer.add(orphan, BlobType.DATA, repo.sealer.seal(b"orphan", orphan), 0)
    packer.flush()

    report = run(repo)

    assert report.ok
    assert len(report.warnings) == 1 and "drkit prune" in report.warnings[0].message
    assert report.counts.packs_read == 3


def test_damaged_header_keeps_blobs_checked(repo: Repository) -> None:
    snap = backup(repo, TREE)
    pack = reopen_loaded(repo).lookup(blob_of(repo, snap.tree, "/a.txt").content[0]).pack

    def flip(data: bytearray) -> None:
        data[-10] ^= 1

    edit(repo, FileKind.PACK, pack, flip)
    report = run(repo)

    assert any("damaged header" in p.message for p in report.errors)
    assert report.damaged_blobs == []
    assert report.counts.blobs_read == report.counts.blobs
    assert any("no file is affected" in h for h in report.hints)


def test_progress_counts_every_pack_read(repo: Repository) -> None:
    backup(repo, TREE)
    progress = Progress()
    Checker(reopen(repo), read_data=PackSubset(), progress=progress).run()
    assert progress.files == 2
    assert progress.bytes == sum(i.size for i in repo.backend.list(FileKind.PACK))


def test_mapper_memoizes_per_tree(repo: Repository) -> None:
    snap = backup(repo, {"x": {"f": b"1"}, "y": {"f": b"1"}})  # x and y: the same tree
    blob = blob_of(repo, snap.tree, "/x/f").content[0]
    mapper = DamageMapper(reopen_loaded(repo), {blob})

    paths = [p.path for p in mapper.affected(snap.tree)]

    assert paths == ["/x/f", "/y/f"]
    assert len(mapper._memo) == 2  # the root and the one shared subtree


def test_damaged_spare_copy_loses_nothing(repo: Repository) -> None:
    backup(repo, {"a": b"twice" * 50})
    backup(reopen(repo), {"b": b"twice" * 50})  # index not loaded: the blob is stored again
    loaded = reopen_loaded(repo)
    blob = repo.hash_id(b"twice" * 50)
    used = loaded.lookup(blob).pack
    [(spare, entry)] = [
        (pack, b)
        for pack, blobs in loaded.index.packs().items()
        for b in blobs
        if b.id == blob and pack != used
    ]

    def flip(data: bytearray) -> None:
        data[entry.offset + 3] ^= 1

    edit(repo, FileKind.PACK, spare, flip)
    report = run(repo)

    assert not report.ok
    assert {p.name for p in report.errors} == {spare}
    assert any("spare copy" in p.message for p in report.errors)
    assert report.damaged_blobs == [] and report.affected == []
