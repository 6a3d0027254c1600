"""Reused trees: an unchanged re-backup writes nothing, and any change still shows up.

A backup reuses the last backup's tree blob of a directory whose entries the
file cache vouches for (dirtree.py). Each test backs up a real tree, then
changes one thing deep in it and checks that every tree from that directory
up to the root is new, that the tree equals the one a backup without any
cache builds, and that a restore gives back the bytes and metadata.

The tree lives in a fresh directory at ``/`` (CI runs as root): the root tree
then holds that directory only, so nothing outside the test (files coming
and going in ``/tmp``) changes a tree between two backups.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drkit.repository import archiver as archiver_module
from drkit.repository.archiver import Archiver, BackupOptions
from drkit.repository.fanout import Destination
from drkit.repository.filecache import FileCache
from drkit.repository.repo import Repository
from drkit.repository.snapshot import Snapshot
from drkit.repository.tree import Node
from drkit.repository.writer import BlobWriter, WriteStats
from drkit.storage.local import LocalBackend
from tests.conftest import Runner

PASSWORD = "correct horse battery staple"


@dataclass
class Backup:
    snap: Snapshot
    stats: WriteStats
    repo: Repository


@pytest.fixture
def src() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("this test makes its tree in / so no other process changes its parents")
    base = Path(tempfile.mkdtemp(prefix="drkit-trees-", dir="/"))
    try:
        _make_tree(base / "src")
        yield base / "src"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _make_tree(root: Path) -> None:
    deep = root / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (root / "other").mkdir()
    for i in range(20):
        (root / "other" / f"o{i}.txt").write_text(f"other {i}\n" * 50)
        (deep / f"f{i}.txt").write_text(f"deep {i}\n" * 80)
    (deep / "big.bin").write_bytes(os.urandom(600_000))
    (root / "a" / "top.txt").write_text("top\n")
    (deep / "link").symlink_to("f1.txt")
    os.link(deep / "f2.txt", root / "other" / "hard.txt")
    os.setxattr(deep / "f3.txt", "user.drkit", b"one")
    os.mkfifo(root / "a" / "pipe")


def _backup(
    repo_dir: Path, src: Path, cache: Path | None, excludes: list[str] | None = None
) -> Backup:
    repo = Repository.open(LocalBackend(repo_dir), PASSWORD)
    repo.load_index()
    writer = BlobWriter(repo)
    file_cache = FileCache(cache)
    file_cache.load()
    options = BackupOptions([str(src)], excludes=excludes or [])
    [snap] = Archiver([Destination(repo, writer, file_cache)], options).run()
    return Backup(snap, writer.stats, repo)


def _trees_down(backup: Backup, path: Path) -> list[bytes]:
    """The tree ids from the root down to the directory ``path``."""
    ids = [backup.snap.tree]
    for part in path.parts[1:]:
        [node] = [n for n in backup.repo.load_tree(ids[-1]) if n.name == part]
        assert node.subtree is not None
        ids.append(node.subtree)
    return ids


def _state(root: Path) -> dict[str, tuple[object, ...]]:
    """Relative path -> what a restore must give back (bytes and metadata)."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                body: object = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as fh:
                    body = hashlib.sha256(fh.read()).hexdigest()
            else:
                body = ""
            xattrs = (
                {}
                if stat.S_ISLNK(st.st_mode)
                else {a: os.getxattr(path, a, follow_symlinks=False) for a in os.listxattr(path)}
            )
            mtime = st.st_mtime_ns if not stat.S_ISDIR(st.st_mode) else 0  # restore writes dirs
            out[os.path.relpath(path, root)] = (
                kind,
                stat.S_IMODE(st.st_mode),
                st.st_uid,
                st.st_gid,
                mtime,
                body,
                sorted(xattrs.items()),
            )
    return out


def _restore_matches(initialized: Runner, snap: Snapshot, src: Path, out: Path) -> None:
    initialized("restore", snap.short_id, "--target", str(out)).check()
    assert _state(out / str(src).lstrip("/")) == _state(src)


@pytest.fixture
def cache_file(tmp_path: Path) -> Path:
    (tmp_path / "cache").mkdir()
    return tmp_path / "cache" / "files.bin.zst"


def _count_encoded_trees(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record every tree the archiver encodes (the real encoder still runs)."""
    encoded: list[int] = []
    real = archiver_module.encode_tree

    def spy(nodes: list[Node]) -> bytes:
        encoded.append(len(nodes))
        return real(nodes)

    monkeypatch.setattr(archiver_module, "encode_tree", spy)
    return encoded


def test_unchanged_rebackup_reuses_every_tree_and_writes_no_pack(
    initialized: Runner,
    repo_dir: Path,
    src: Path,
    cache_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _backup(repo_dir, src, cache_file)
    assert first.stats.packs > 0
    cache = FileCache(cache_file)
    cache.load()
    assert str(src / "a" / "b" / "c") in cache.dirs_old  # the first backup remembered its trees
    encoded = _count_encoded_trees(monkeypatch)
    second = _backup(repo_dir, src, cache_file)
    assert second.snap.tree == first.snap.tree
    assert (second.stats.packs, second.stats.tree_blobs, second.stats.data_blobs) == (0, 0, 0)
    assert second.snap.summary.bytes_read == 0
    # only the parents of the backed-up path ("/" and the test's directory) are encoded
    assert len(encoded) == len(src.parts) - 1
    monkeypatch.undo()
    # what a backup with no cache at all builds, reading every file again
    rebuilt = _backup(repo_dir, src, None)
    assert rebuilt.snap.tree == second.snap.tree
    _restore_matches(initialized, second.snap, src, tmp_path / "out")


def _rewrite(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[::-1])  # same size, other bytes


def _restore_mtime_after_write(path: Path) -> None:
    """New content, the old mtime put back: only the ctime tells."""
    before = path.stat()
    path.write_bytes(path.read_bytes().upper())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    while path.stat().st_ctime_ns == before.st_ctime_ns:  # a coarse clock: set it again
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def _retarget(link: Path) -> None:
    link.unlink()
    link.symlink_to("f7.txt")  # a target of the same length


def _mkdir_empty(deep: Path) -> None:
    (deep / "new-dir").mkdir()


MUTATIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "content": (lambda d: _rewrite(d / "f4.txt"), "a/b/c"),
    "big file content": (lambda d: _rewrite(d / "big.bin"), "a/b/c"),
    "mode": (lambda d: os.chmod(d / "f5.txt", 0o600), "a/b/c"),
    "owner": (lambda d: os.chown(d / "f6.txt", 1234, 5678), "a/b/c"),
    "xattr added": (lambda d: os.setxattr(d / "f8.txt", "user.new", b"x"), "a/b/c"),
    "xattr changed": (lambda d: os.setxattr(d / "f3.txt", "user.drkit", b"two"), "a/b/c"),
    "xattr removed": (lambda d: os.removexattr(d / "f3.txt", "user.drkit"), "a/b/c"),
    "rename": (lambda d: os.rename(d / "f9.txt", d / "g9.txt"), "a/b/c"),
    "added file": (lambda d: (d / "added.txt").write_text("new\n"), "a/b/c"),
    "removed file": (lambda d: os.unlink(d / "f10.txt"), "a/b/c"),
    "added empty dir": (_mkdir_empty, "a/b/c"),
    "symlink target": (lambda d: _retarget(d / "link"), "a/b/c"),
    "mtime restored, ctime changed": (lambda d: _restore_mtime_after_write(d / "f11.txt"), "a/b/c"),
    "directory mode": (lambda d: os.chmod(d, 0o711), "a/b"),
    # only the ctime of the directory tells (a file's own ctime is in the file cache)
    "xattr on a directory": (lambda d: os.setxattr(d, "user.dir", b"x"), "a/b"),
    "owner of a symlink": (lambda d: os.chown(d / "link", 42, 43, follow_symlinks=False), "a/b/c"),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_a_change_below_a_directory_makes_new_trees_up_to_the_root(
    name: str,
    initialized: Runner,
    repo_dir: Path,
    src: Path,
    cache_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mutate, changed_dir = MUTATIONS[name]
    _backup(repo_dir, src, cache_file)
    before = _backup(repo_dir, src, cache_file)  # the trees now come from the cache
    mutate(src / "a" / "b" / "c")
    after = _backup(repo_dir, src, cache_file)

    old, new = _trees_down(before, src / changed_dir), _trees_down(after, src / changed_dir)
    assert all(o != n for o, n in zip(old, new, strict=True)), (old, new)
    # the sibling directory nobody touched keeps its tree
    assert _trees_down(after, src / "other")[-1] == _trees_down(before, src / "other")[-1]
    # exactly the tree a backup with no cache builds of the same files
    assert _backup(repo_dir, src, None).snap.tree == after.snap.tree
    # and the next backup, with nothing changed, reuses the new trees
    encoded = _count_encoded_trees(monkeypatch)
    again = _backup(repo_dir, src, cache_file)
    assert again.snap.tree == after.snap.tree and again.stats.packs == 0
    assert len(encoded) == len(src.parts) - 1
    monkeypatch.undo()
    _restore_matches(initialized, after.snap, src, tmp_path / "out")


def test_hard_link_change_shows_under_both_names(
    initialized: Runner, repo_dir: Path, src: Path, cache_file: Path, tmp_path: Path
) -> None:
    _backup(repo_dir, src, cache_file)
    before = _backup(repo_dir, src, cache_file)
    _rewrite(src / "other" / "hard.txt")  # the same inode as a/b/c/f2.txt
    after = _backup(repo_dir, src, cache_file)
    for where in ("a/b/c", "other"):
        assert _trees_down(after, src / where)[-1] != _trees_down(before, src / where)[-1]
    _restore_matches(initialized, after.snap, src, tmp_path / "out")


def test_new_excludes_drop_entries_from_a_remembered_tree(
    initialized: Runner, repo_dir: Path, src: Path, cache_file: Path, tmp_path: Path
) -> None:
    """The cache is kept per set of paths, not of excludes: the fingerprint sees the change."""
    _backup(repo_dir, src, cache_file)
    _backup(repo_dir, src, cache_file)
    after = _backup(repo_dir, src, cache_file, excludes=["*.bin"])
    names = {n.name for n in after.repo.load_tree(_trees_down(after, src / "a/b/c")[-1])}
    assert "big.bin" not in names and "f1.txt" in names
    assert _backup(repo_dir, src, None, excludes=["*.bin"]).snap.tree == after.snap.tree
    (src / "a" / "b" / "c" / "big.bin").unlink()  # the source as the snapshot holds it
    _restore_matches(initialized, after.snap, src, tmp_path / "out")


def test_fan_out_reuses_trees_in_every_repository_and_sees_changes_in_each(
    repo_dir: Path, initialized: Runner, src: Path, tmp_path: Path
) -> None:
    """Two repositories, each with its own ids and cache: both reuse, both see a change."""
    (tmp_path / "caches").mkdir()
    second_dir = tmp_path / "second-repo"
    second_dir.mkdir()
    Repository.init(LocalBackend(second_dir), PASSWORD)

    def both(cached: bool) -> list[tuple[bytes, WriteStats]]:
        destinations = []
        for i, where in enumerate((repo_dir, second_dir)):
            repo = Repository.open(LocalBackend(where), PASSWORD)
            repo.load_index()
            cache = FileCache(tmp_path / "caches" / f"{i}.bin.zst" if cached else None)
            cache.load()
            destinations.append(Destination(repo, BlobWriter(repo), cache))
        snaps = Archiver(destinations, BackupOptions([str(src)])).run()
        return [(s.tree, d.writer.stats) for s, d in zip(snaps, destinations, strict=True)]

    first = both(cached=True)
    second = both(cached=True)
    assert [t for t, _ in second] == [t for t, _ in first]
    assert all(stats.packs == 0 and stats.tree_blobs == 0 for _, stats in second)
    _rewrite(src / "a" / "b" / "c" / "f4.txt")
    after = both(cached=True)
    assert all(new != old for (new, _), (old, _) in zip(after, second, strict=True))
    assert [t for t, _ in both(cached=False)] == [t for t, _ in after]
