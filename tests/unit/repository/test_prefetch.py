"""The backup walk-ahead: its order, its bound, and how it stops (prefetch.py)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from drkit.repository.archiver import Archiver, BackupOptions
from drkit.repository.fanout import Destination
from drkit.repository.filecache import FileCache
from drkit.repository.prefetch import Frontier, Key, WalkAhead, warm_directory
from drkit.repository.repo import Repository
from drkit.repository.writer import BlobWriter
from drkit.storage.memory import MemoryBackend

# a fake tree: directory -> its entries in scandir order (name, is a directory)
TREE: dict[str, list[tuple[str, bool]]] = {
    "/r": [("f1", False), ("b", True), ("a", True), ("f2", False)],
    "/r/b": [("x", True), ("g", False)],
    "/r/b/x": [("h", False), ("i", False), ("j", False)],
    "/r/a": [("k", False), ("y", True)],
    "/r/a/y": [],
}


def fake_warm(path: str) -> tuple[int, list[tuple[int, str]]]:
    entries = TREE[path]
    subdirs = [(i, f"{path}/{name}") for i, (name, is_dir) in enumerate(entries) if is_dir]
    return len(entries), subdirs


def walk_order(path: str = "/r", key: Key = ()) -> list[tuple[Key, str]]:
    """The directories in the archiver's order (depth-first, scandir order), with keys."""
    order = [(key, path)]
    for i, (name, is_dir) in enumerate(TREE[path]):
        if is_dir:
            order += walk_order(f"{path}/{name}", (*key, i))
    return order


def drain(frontier: Frontier) -> list[str]:
    taken = []
    while (job := frontier.take()) is not None:
        taken.append(job[1])
        frontier.finish(job[0], *fake_warm(job[1]))
    return taken


def test_frontier_takes_directories_in_the_walk_order() -> None:
    frontier = Frontier(window=1000)
    frontier.add((), "/r")
    assert drain(frontier) == [p for _, p in walk_order()]
    assert frontier.finished


def test_frontier_waits_once_a_window_of_entries_is_ahead_of_the_walker() -> None:
    frontier = Frontier(window=5)
    frontier.add((), "/r")
    assert drain(frontier) == ["/r", "/r/b"]  # 4 + 2 entries: the window is full
    assert frontier.ahead == 6 and not frontier.finished
    frontier.reached((1,))  # the walker is in /r/b: /r is behind it
    assert frontier.ahead == 2
    assert drain(frontier) == ["/r/b/x"]
    frontier.reached((1, 0))
    assert drain(frontier) == ["/r/a"]
    frontier.reached((2,))
    assert drain(frontier) == ["/r/a/y"]
    assert frontier.finished and frontier.ahead == 2 and frontier.pending == 2


def test_frontier_drops_what_the_walker_has_passed() -> None:
    frontier = Frontier(window=1000)
    frontier.add((), "/r")
    job = frontier.take()
    assert job is not None
    frontier.finish(job[0], *fake_warm("/r"))
    frontier.reached((2,))  # the walker outran the prefetch into /r/a
    assert drain(frontier) == ["/r/a", "/r/a/y"]  # /r/b and /r/b/x are skipped
    late = Frontier(window=1000, walker=(2,))
    late.busy = 1
    late.finish((1,), 2, [(0, "/r/b/x")])  # finished after the walker passed it
    assert late.ahead == 0 and late.finished


def test_a_walker_that_overtakes_the_prefetch_leaves_it_the_rest_of_the_tree() -> None:
    """The walker entered /r/b/x while the prefetch still listed /r: the prefetch goes on
    with what is ahead (/r/a and below), instead of dropping /r's subdirectories and
    stopping for the whole backup."""
    frontier = Frontier(window=1000)
    frontier.add((), "/r")
    job = frontier.take()
    assert job is not None
    frontier.reached((1, 0))  # /r/b/x, before the prefetch finished /r
    frontier.finish(job[0], *fake_warm("/r"))
    assert frontier.ahead == 0  # /r holds the walker: its entries are not ahead of it
    # /r/b holds the walker too: listed for its later subdirectories (none), then /r/a
    assert drain(frontier) == ["/r/b", "/r/b/x", "/r/a", "/r/a/y"]
    assert frontier.finished


def test_walk_ahead_warms_every_directory_once_in_order() -> None:
    seen: list[str] = []

    def warm(path: str) -> tuple[int, list[tuple[int, str]]]:
        seen.append(path)
        return fake_warm(path)

    with WalkAhead("/r", threads=1, window=1000, warm=warm) as ahead:
        for thread in ahead._threads:
            thread.join()
    assert seen == [p for _, p in walk_order()]


def test_walk_ahead_stays_within_its_window_until_the_walker_moves() -> None:
    seen: list[str] = []
    order = {p for _, p in walk_order()}

    def warm(path: str) -> tuple[int, list[tuple[int, str]]]:
        seen.append(path)
        return fake_warm(path)

    with WalkAhead("/r", threads=3, window=5, warm=warm) as ahead:
        with ahead._cond:  # every thread waits for the walker: nothing more to take
            ahead._cond.wait_for(lambda: ahead._frontier.busy == 0 and ahead._frontier.ahead >= 5)
            # /r, /r/b and maybe /r/a (taken while /r/b was still being read), nothing deeper
            assert {"/r", "/r/b"} <= set(seen) <= {"/r", "/r/b", "/r/a"}
        for key, _path in walk_order():
            ahead.reached(key)
        for thread in ahead._threads:
            thread.join()  # the walker moved to the end: the threads run out of work
    assert len(seen) == len(set(seen)) and set(seen) <= order


def test_stop_ends_threads_waiting_for_the_walker() -> None:
    ahead = WalkAhead("/r", threads=2, window=1, warm=fake_warm)
    with ahead, ahead._cond:
        ahead._cond.wait_for(lambda: ahead._frontier.busy == 0 and ahead._frontier.ahead >= 1)
    assert not any(thread.is_alive() for thread in ahead._threads)


def test_a_failing_directory_does_not_stop_the_others() -> None:
    seen: list[str] = []

    def warm(path: str) -> tuple[int, list[tuple[int, str]]]:
        seen.append(path)
        if path == "/r/b":
            raise RuntimeError("boom")
        return fake_warm(path)

    with WalkAhead("/r", threads=2, window=1000, warm=warm) as ahead:
        for thread in ahead._threads:
            thread.join()
    assert sorted(seen) == ["/r", "/r/a", "/r/a/y", "/r/b"]  # /r/b/x unknown, not an error


def test_warm_directory_reports_entries_and_the_directories_to_enter(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "skipped").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to("sub")
    entries, subdirs = warm_directory(str(tmp_path), lambda path, name, st: name == "skipped")
    names = sorted(e.name for e in os.scandir(tmp_path))
    assert entries == len(names) == 4
    assert [os.path.basename(p) for _, p in subdirs] == ["sub"]  # not the link, not skipped
    assert warm_directory(str(tmp_path / "missing")) == (0, [])


@pytest.mark.parametrize("threads", [1, 4])
def test_backup_with_the_walk_ahead_stores_the_same_tree(tmp_path: Path, threads: int) -> None:
    src = tmp_path / "src"
    for i in range(5):
        sub = src / f"d{i}" / "deeper"
        sub.mkdir(parents=True)
        (sub / "f").write_bytes(os.urandom(100 + i))
        (src / f"d{i}" / "g").write_text(str(i))
    (src / "d0" / "link").symlink_to("deeper")
    repo = Repository.init(MemoryBackend(), "pw")

    def backup(walk_ahead: int) -> bytes:
        destination = Destination(repo, BlobWriter(repo), FileCache(None))
        options = BackupOptions([str(src)], walk_ahead=walk_ahead, excludes=["*/d3"])
        (snap,) = Archiver([destination], options).run()
        tree = snap.tree
        for name in src.parts[1:]:  # down to src: the directories above it change meanwhile
            (node,) = [n for n in repo.load_tree(tree) if n.name == name]
            assert node.subtree is not None
            tree = node.subtree
        return tree

    assert backup(0) == backup(threads)
    assert not [t for t in threading.enumerate() if t.name.startswith("drkit-walkahead")]
