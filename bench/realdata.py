"""Real-shaped benchmark data sets: a copy of this machine's system files, and N small files.

``system``: a deterministic sample of ``/usr/share`` and ``/usr/lib`` (about 1 GiB
at ``scale=1.0``): the many small text files, symlinks and hard links of a real
system, beside shared libraries and already-compressed archives (``.gz``, ``.zip``)
that zstd cannot shrink. Every small file (under 16 KiB) and symlink is kept with
the probability that gives about 45,000 files per unit of scale, larger files with
the probability that fills the byte budget; a path is kept when the BLAKE2b of its
name falls below its probability, so the same machine always gives the same tree.
Hard links of the source are kept as hard links; in addition every 500th file
copied gets a second name (``NAME.link``), since ``/usr`` has few.

``small``: ``files`` files of 100 B - 8 KiB (seeded: two thirds text, one third
random bytes), 100 per directory, 100 directories per parent.

Command line (from the repository root)::

    python -m bench.realdata system DIR [--scale F]
    python -m bench.realdata small DIR [--files N] [--seed N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

KIB = 1024
GIB = 1024**3
SYSTEM_SOURCES = ("/usr/share", "/usr/lib")
SYSTEM_BYTES = 1 * GIB
SYSTEM_FILES = 45_000
SMALL_LIMIT = 16 * KIB
LARGE_LIMIT = 64 * 1024 * KIB  # single files above this are left out
EXTRA_LINK_EVERY = 500
PER_DIR = 100
SMALL_MIN, SMALL_MAX = 100, 8 * KIB


@dataclass
class TreeStats:
    """What a real-shaped data set holds."""

    kind: str
    scale: float
    files: int = 0
    bytes: int = 0
    small_files: int = 0  # under 16 KiB
    symlinks: int = 0
    hardlinks: int = 0  # names beyond the first of an inode
    dirs: int = 0

    def describe(self) -> str:
        return (
            f"{self.kind} tree (scale {self.scale}): {self.files} files "
            f"({self.small_files} under 16 KiB), {self.bytes / 2**20:.1f} MiB, "
            f"{self.symlinks} symlinks, {self.hardlinks} extra hard-link names, "
            f"{self.dirs} directories"
        )


@dataclass(frozen=True)
class _Entry:
    path: str
    size: int
    is_link: bool


def _unit(path: str) -> float:
    """A stable number in [0, 1) for ``path``."""
    digest = hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def _scan(sources: tuple[str, ...]) -> list[_Entry]:
    entries: list[_Entry] = []
    for source in sources:
        for current, dirnames, filenames in os.walk(source):
            dirnames.sort()
            for name in sorted(filenames) + [d for d in dirnames if _is_link(current, d)]:
                path = os.path.join(current, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISLNK(st.st_mode):
                    entries.append(_Entry(path, 0, True))
                elif _copyable(path, st):
                    entries.append(_Entry(path, st.st_size, False))
    return entries


def _copyable(path: str, st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode) and st.st_size <= LARGE_LIMIT and os.access(path, os.R_OK)


def _is_link(parent: str, name: str) -> bool:
    return os.path.islink(os.path.join(parent, name))


def select_system(entries: list[_Entry], scale: float) -> list[_Entry]:
    """The sample: small files and links up to the file budget, large ones to the bytes."""
    small = [e for e in entries if e.is_link or e.size < SMALL_LIMIT]
    large = [e for e in entries if not e.is_link and e.size >= SMALL_LIMIT]
    p_small = min(1.0, SYSTEM_FILES * scale / max(1, len(small)))
    chosen = [e for e in small if _unit(e.path) < p_small]
    left = SYSTEM_BYTES * scale - sum(e.size for e in chosen)
    p_large = min(1.0, max(0.0, left) / max(1, sum(e.size for e in large)))
    chosen += [e for e in large if _unit(e.path) < p_large]
    return sorted(chosen, key=lambda e: e.path)


def make_system(dest: Path, scale: float = 1.0) -> TreeStats:
    """Copy the sample of the system files into ``dest`` (which must not exist)."""
    stats = TreeStats("system", scale)
    dest.mkdir(parents=True)
    made: set[str] = set()
    inodes: dict[tuple[int, int], str] = {}
    for entry in select_system(_scan(SYSTEM_SOURCES), scale):
        target = str(dest) + entry.path
        parent = os.path.dirname(target)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        if entry.is_link:
            os.symlink(os.readlink(entry.path), target)
            stats.symlinks += 1
            continue
        _copy_file(entry, target, inodes, stats)
    stats.dirs = sum(1 for _ in dest.rglob("*") if _.is_dir() and not _.is_symlink())
    return stats


def _copy_file(
    entry: _Entry, target: str, inodes: dict[tuple[int, int], str], stats: TreeStats
) -> None:
    st = os.lstat(entry.path)
    first = inodes.get((st.st_dev, st.st_ino))
    if first is not None:
        os.link(first, target)
        stats.hardlinks += 1
        return
    try:
        shutil.copy2(entry.path, target, follow_symlinks=False)
    except OSError:
        return  # vanished or unreadable since the scan
    if st.st_nlink > 1:
        inodes[(st.st_dev, st.st_ino)] = target
    stats.files += 1
    stats.bytes += entry.size
    stats.small_files += entry.size < SMALL_LIMIT
    if stats.files % EXTRA_LINK_EVERY == 0:
        os.link(target, target + ".link")
        stats.hardlinks += 1


def make_small(dest: Path, files: int, seed: int = 42) -> TreeStats:
    """``files`` small files below ``dest``, 100 per directory."""
    stats = TreeStats("small", files / 1_000_000)
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(6)) for _ in range(512)]
    for index in range(files):
        top, sub = index // (PER_DIR * PER_DIR), index // PER_DIR % PER_DIR
        folder = dest / f"d{top:04d}" / f"e{sub:02d}"
        if index % PER_DIR == 0:
            folder.mkdir(parents=True)
            stats.dirs += 1
        size = rng.randint(SMALL_MIN, SMALL_MAX)
        if index % 3 == 2:
            data = rng.randbytes(size)
        else:
            data = b" ".join(rng.choices(words, k=size // 7 + 1))[:size]
        (folder / f"f{index:07d}.txt").write_bytes(data)
        stats.files += 1
        stats.small_files += 1
        stats.bytes += size
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.realdata", description=__doc__)
    parser.add_argument("kind", choices=("system", "small"))
    parser.add_argument("dir", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.kind == "system":
        stats = make_system(args.dir, args.scale)
    else:
        stats = make_small(args.dir, args.files, args.seed)
    print(stats.describe())


if __name__ == "__main__":
    main()
