"""Walk-ahead: warm the kernel's caches for the directories the backup walk reaches next.

On a cold cache the walking thread waits on the disk for every ``scandir``,
``lstat`` and ``listxattr``, one at a time. A few I/O threads here do the
same calls a little ahead of it, in the walk's own order, so the inodes,
dentries and xattr blocks are in memory by the time the walker asks: the
disk sees several requests at once instead of one.

Nothing here decides what is backed up: the results are thrown away, errors
are ignored, and the walker's own ``lstat`` stays the truth.

The walk is depth-first with each directory's entries in ``scandir`` order,
so a directory's place in it is the list of its entries' positions from the
root (its *key*): the walk reaches directories in ascending key order. The
prefetch threads always take the smallest key still to do, skip directories
the walker has passed, and stop when ``window`` entries are done ahead of it.
A directory the walker is inside (its key a prefix of the walker's) is not
passed: its later subdirectories are still ahead. Without that, a walker that
overtakes the prefetch at a narrow top (``/srv`` holding only ``app``) left
it nothing to do, and the rest of the backup ran with no walk-ahead at all.
"""

from __future__ import annotations

import heapq
import os
import stat
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Key = tuple[int, ...]
Skip = Callable[[str, str, os.stat_result], bool]  # (path, name, lstat) -> do not descend


@dataclass
class Frontier:
    """Which directory to prefetch next, and how far ahead of the walker that is (pure)."""

    window: int  # entries prefetched ahead of the walker before the threads wait
    walker: Key = ()  # the directory the walker is in
    ahead: int = 0
    busy: int = 0
    _todo: list[tuple[Key, str]] = field(default_factory=list)
    _done: list[tuple[Key, int]] = field(default_factory=list)

    def add(self, key: Key, path: str) -> None:
        heapq.heappush(self._todo, (key, path))

    def passed(self, key: Key) -> bool:
        """Whether the walker is done with ``key`` and everything below it."""
        return key < self.walker and self.walker[: len(key)] != key

    def take(self) -> tuple[Key, str] | None:
        """The next directory to prefetch, or None to wait (window full, or nothing yet)."""
        while self._todo and self.passed(self._todo[0][0]):
            heapq.heappop(self._todo)  # the walker is past it: no use any more
        if not self._todo or self.ahead >= self.window:
            return None
        self.busy += 1
        return heapq.heappop(self._todo)

    def finish(self, key: Key, entries: int, subdirs: Iterable[tuple[int, str]]) -> None:
        """A taken directory is done: ``subdirs`` are (position, path) of its directories."""
        self.busy -= 1
        if self.passed(key):
            return
        if key >= self.walker:  # else the walker is inside it: only its subdirectories count
            self.ahead += entries
            heapq.heappush(self._done, (key, entries))
        for position, path in subdirs:
            self.add((*key, position), path)

    def reached(self, key: Key) -> None:
        """The walker entered the directory at ``key``; everything before it is past."""
        self.walker = key
        while self._done and self._done[0][0] < key:
            self.ahead -= heapq.heappop(self._done)[1]

    @property
    def finished(self) -> bool:
        return not self._todo and self.busy == 0

    @property
    def pending(self) -> int:
        return len(self._todo) + len(self._done)


def warm_directory(path: str, skip: Skip | None = None) -> tuple[int, list[tuple[int, str]]]:
    """Do the walker's calls for one directory; return its entry count and subdirectories.

    The same calls as archiver._walk_dir and metadata.node_from_stat: ``scandir``,
    ``lstat`` of every entry, ``readlink`` of symlinks, ``listxattr`` of the rest.
    Errors are ignored: the walker meets them itself and reports them.
    """
    try:
        with os.scandir(path) as it:
            entries = list(it)
    except OSError:
        return 0, []
    subdirs = []
    for position, entry in enumerate(entries):
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                os.readlink(entry.path)
                continue
            os.listxattr(entry.path, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and not (skip and skip(entry.path, entry.name, st)):
            subdirs.append((position, entry.path))
    return len(entries), subdirs


Warm = Callable[[str], tuple[int, list[tuple[int, str]]]]


class WalkAhead:
    """I/O threads running ``warm`` over the tree at ``root`` just ahead of the walker.

    Use as a context manager around the walk of ``root``, and call
    :meth:`reached` with each directory's key as the walker enters it.
    """

    def __init__(
        self,
        root: str,
        *,
        threads: int = 4,
        window: int = 4096,
        warm: Warm | None = None,
        skip: Skip | None = None,
    ) -> None:
        self._frontier = Frontier(window)
        self._frontier.add((), root)
        self._warm: Warm = warm or (lambda path: warm_directory(path, skip))
        self._cond = threading.Condition()
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._run, name=f"drkit-walkahead-{i}", daemon=True)
            for i in range(threads)
        ]

    def __enter__(self) -> WalkAhead:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reached(self, key: Key) -> None:
        with self._cond:
            frontier = self._frontier
            was_full = frontier.ahead >= frontier.window
            frontier.reached(key)
            if was_full and frontier.ahead < frontier.window:  # else no thread waits on it
                self._cond.notify_all()

    def stop(self) -> None:
        """Stop the threads and wait for them (each ends after its current directory)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

    def _run(self) -> None:
        try:
            while (job := self._next()) is not None:
                key, path = job
                try:
                    entries, subdirs = self._warm(path)
                except Exception:  # a prefetch must never break the backup
                    entries, subdirs = 0, []
                with self._cond:
                    self._frontier.finish(key, entries, subdirs)
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._cond.notify_all()

    def _next(self) -> tuple[Key, str] | None:
        with self._cond:
            while not self._stopped:
                job = self._frontier.take()
                if job is not None:
                    return job
                if self._frontier.finished:
                    return None
                self._cond.wait()
            return None
