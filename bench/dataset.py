"""Deterministic benchmark dataset: generation and mutation.

The dataset (about 1 GiB at ``scale=1.0``) has three parts:

* ``text/``  -- compressible prose built from a seeded, Zipf-weighted pseudo-word
  vocabulary; file sizes are log-uniform between 1 KiB and ~20 MiB, ~600 MiB total.
* ``large/`` -- 4 incompressible files of seeded pseudo-random bytes, ~300 MiB total.
* ``small/`` -- ~20,000 small files (100 B - 8 KiB, mostly text, some binary) spread
  over a nested directory tree of varying depth.

``mutate`` then deterministically changes about 5 % of the data: inserts/replaces text
in the middle of some text files, appends to others, adds and deletes small files,
deletes a couple of text files and rewrites one region of one large file in place.

Every byte depends only on ``seed`` and ``scale`` (and the mutation additionally on the
dataset it mutates), so two runs with the same arguments produce identical trees.

Command line (from the repository root)::

    python -m bench.dataset generate DIR [--seed N] [--scale F]
    python -m bench.dataset mutate DIR [--seed N]
    python -m bench.dataset digest DIR
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import math
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB

DEFAULT_SEED = 42

TEXT_TOTAL = 600 * MIB
TEXT_MIN_SIZE = 1 * KIB
TEXT_MAX_SIZE = 20 * MIB
LARGE_FILE_COUNT = 4
LARGE_TOTAL = 300 * MIB
SMALL_FILE_COUNT = 20_000
SMALL_MIN_SIZE = 100
SMALL_MAX_SIZE = 8 * KIB
SMALL_BINARY_FRACTION = 0.3

RANDOM_CHUNK = 4 * MIB
WRITE_CHUNK = 4 * MIB

# Mutation budget, as fractions of the total dataset size (sum is ~5 %).
MUTATE_LARGE_REGION = 0.015
MUTATE_TEXT_MIDDLE = 0.020
MUTATE_TEXT_APPEND = 0.012
MUTATE_NEW_SMALL_FILES = 0.02  # fraction of the small-file count
MUTATE_DELETE_SMALL_FILES = 0.01  # fraction of the small-file count
MUTATE_DELETE_TEXT_FILES = 2

_ONSETS = [*"bcdfghjklmnprstvwz", "ch", "sh", "th", "st", "tr", "pl", "gr", "br", "qu"]
_VOWELS = [*"aeiou", "ai", "ea", "ou", "io", "ee", "oo"]
_CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ng", "ck", "x"]


@dataclass
class DatasetStats:
    """Summary of a generated dataset."""

    seed: int
    scale: float
    text_files: int = 0
    text_bytes: int = 0
    large_files: int = 0
    large_bytes: int = 0
    small_files: int = 0
    small_bytes: int = 0
    directories: int = 0

    @property
    def total_files(self) -> int:
        return self.text_files + self.large_files + self.small_files

    @property
    def total_bytes(self) -> int:
        return self.text_bytes + self.large_bytes + self.small_bytes


@dataclass
class MutationStats:
    """What ``mutate`` changed; byte counts are new or rewritten bytes."""

    text_files_modified: int = 0
    text_bytes_inserted: int = 0
    text_files_appended: int = 0
    text_bytes_appended: int = 0
    text_files_deleted: int = 0
    large_bytes_rewritten: int = 0
    small_files_added: int = 0
    small_bytes_added: int = 0
    small_files_deleted: int = 0
    touched_paths: list[str] = field(default_factory=list)

    @property
    def changed_bytes(self) -> int:
        return (
            self.text_bytes_inserted
            + self.text_bytes_appended
            + self.large_bytes_rewritten
            + self.small_bytes_added
        )


class TextSource:
    """Seeded generator of English-looking prose made of pseudo-words.

    A vocabulary of pseudo-words (Zipf-weighted) is combined into a pool of short
    phrases; text is a weighted random sequence of those phrases. This keeps generation
    fast (one ``random.choices`` call per file) while compressing roughly like prose.
    """

    VOCABULARY_SIZE = 12_000
    PHRASE_POOL_SIZE = 200_000

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"{seed}:vocabulary")
        words = self._make_words(rng, self.VOCABULARY_SIZE)
        word_weights = list(
            itertools.accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(words)))
        )
        self._phrases = [
            self._make_phrase(rng, words, word_weights) for _ in range(self.PHRASE_POOL_SIZE)
        ]
        self._phrase_weights = list(
            itertools.accumulate(1.0 / (rank + 1) ** 0.5 for rank in range(len(self._phrases)))
        )
        self._mean_phrase_len = sum(map(len, self._phrases)) / len(self._phrases)

    @staticmethod
    def _make_words(rng: random.Random, count: int) -> list[str]:
        seen: set[str] = set()
        words: list[str] = []
        while len(words) < count:
            syllables = rng.choices((1, 2, 3, 4), weights=(40, 36, 18, 6))[0]
            word = "".join(
                rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                for _ in range(syllables)
            )
            if word not in seen:
                seen.add(word)
                words.append(word)
        return words

    @staticmethod
    def _make_phrase(rng: random.Random, words: list[str], cum_weights: list[float]) -> bytes:
        length = rng.randint(1, 6)
        chosen = rng.choices(words, cum_weights=cum_weights, k=length)
        if rng.random() < 0.15:
            chosen[0] = chosen[0].capitalize()
        tail = rng.choices((" ", ", ", ". ", ".\n", ".\n\n", "; "), weights=(80, 8, 6, 3, 1, 2))[0]
        return (" ".join(chosen) + tail).encode()

    def text(self, rng: random.Random, size: int) -> bytes:
        """Return exactly ``size`` bytes of text drawn with ``rng``."""
        if size <= 0:
            return b""
        count = int(size / self._mean_phrase_len * 1.05) + 4
        data = b"".join(rng.choices(self._phrases, cum_weights=self._phrase_weights, k=count))
        while len(data) < size:
            data += b"".join(rng.choices(self._phrases, cum_weights=self._phrase_weights, k=64))
        return data[:size]


def random_stream(rng: random.Random, size: int) -> bytes:
    """Return ``size`` pseudo-random (incompressible) bytes from ``rng``."""
    return b"".join(
        rng.randbytes(min(RANDOM_CHUNK, size - offset)) for offset in range(0, size, RANDOM_CHUNK)
    )


def log_uniform(rng: random.Random, low: int, high: int) -> int:
    """Draw an integer log-uniformly from ``[low, high]``."""
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _text_sizes(rng: random.Random, total: int, max_size: int) -> list[int]:
    sizes: list[int] = []
    remaining = total
    while remaining > TEXT_MIN_SIZE:
        size = min(log_uniform(rng, TEXT_MIN_SIZE, max_size), remaining)
        sizes.append(size)
        remaining -= size
    return sizes


def text_path(index: int) -> str:
    return f"text/group{index % 10}/doc{index:04d}.txt"


def small_path(index: int, rng: random.Random, binary: bool) -> str:
    """Relative path of small file ``index``; depth varies from 2 to 5 levels."""
    parts = [f"small/d{index % 23:02d}"]
    depth = rng.choices((0, 1, 2, 3), weights=(10, 45, 30, 15))[0]
    for level in range(depth):
        parts.append(f"{'efgh'[level]}{rng.randrange(6 - level)}")
    suffix = ".bin" if binary else ".txt"
    return "/".join([*parts, f"f{index:05d}{suffix}"])


def _generate_text(
    dest: Path, seed: int, scale: float, source: TextSource, stats: DatasetStats
) -> None:
    rng = random.Random(f"{seed}:text")
    max_size = max(64 * KIB, int(TEXT_MAX_SIZE * min(1.0, scale * 4)))
    for index, size in enumerate(_text_sizes(rng, int(TEXT_TOTAL * scale), max_size)):
        _write(dest / text_path(index), source.text(rng, size))
        stats.text_files += 1
        stats.text_bytes += size


def _generate_large(dest: Path, seed: int, scale: float, stats: DatasetStats) -> None:
    per_file = int(LARGE_TOTAL * scale) // LARGE_FILE_COUNT
    for index in range(LARGE_FILE_COUNT):
        rng = random.Random(f"{seed}:large:{index}")
        # Vary sizes a little (+-10 %) so the files are not all identical in length.
        size = int(per_file * rng.uniform(0.9, 1.1))
        path = dest / f"large/blob{index}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            for offset in range(0, size, WRITE_CHUNK):
                handle.write(random_stream(rng, min(WRITE_CHUNK, size - offset)))
        stats.large_files += 1
        stats.large_bytes += size


def _small_content(rng: random.Random, source: TextSource, binary: bool) -> bytes:
    size = log_uniform(rng, SMALL_MIN_SIZE, SMALL_MAX_SIZE)
    return rng.randbytes(size) if binary else source.text(rng, size)


def _generate_small(
    dest: Path, seed: int, scale: float, source: TextSource, stats: DatasetStats
) -> None:
    rng = random.Random(f"{seed}:small")
    for index in range(max(1, int(SMALL_FILE_COUNT * scale))):
        binary = rng.random() < SMALL_BINARY_FRACTION
        data = _small_content(rng, source, binary)
        _write(dest / small_path(index, rng, binary), data)
        stats.small_files += 1
        stats.small_bytes += len(data)


def generate(dest: Path, seed: int = DEFAULT_SEED, scale: float = 1.0) -> DatasetStats:
    """Create the dataset in ``dest`` (which must not exist or be empty)."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"dataset directory is not empty: {dest}")
    dest.mkdir(parents=True, exist_ok=True)
    stats = DatasetStats(seed=seed, scale=scale)
    source = TextSource(seed)
    _generate_text(dest, seed, scale, source, stats)
    _generate_large(dest, seed, scale, stats)
    _generate_small(dest, seed, scale, source, stats)
    stats.directories = sum(1 for _ in walk_files(dest, dirs=True))
    return stats


def walk_files(root: Path, dirs: bool = False) -> list[str]:
    """Sorted relative POSIX paths of all regular files (or directories) below ``root``."""
    found: list[str] = []
    for current, dirnames, filenames in os.walk(root):
        rel = Path(current).relative_to(root)
        for name in dirnames if dirs else filenames:
            found.append((rel / name).as_posix())
    return sorted(found)


def _files_under(dest: Path, prefix: str) -> list[str]:
    return [path for path in walk_files(dest) if path.startswith(prefix)]


def _dataset_size(dest: Path) -> int:
    return sum((dest / rel).stat().st_size for rel in walk_files(dest))


def _rewrite_large_region(
    dest: Path, rng: random.Random, budget: int, stats: MutationStats
) -> None:
    large = _files_under(dest, "large/")
    if not large:
        return
    rel = rng.choice(large)
    path = dest / rel
    size = path.stat().st_size
    length = min(budget, size // 2)
    offset = rng.randrange(0, size - length + 1)
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(random_stream(rng, length))
    stats.large_bytes_rewritten += length
    stats.touched_paths.append(rel)


def _modify_text_middles(
    dest: Path,
    rng: random.Random,
    files: list[str],
    budget: int,
    source: TextSource,
    stats: MutationStats,
) -> None:
    """Insert new text in the middle of files and overwrite a region just after it."""
    while budget > 0 and files:
        rel = files.pop()
        path = dest / rel
        data = path.read_bytes()
        block = source.text(rng, min(budget, max(256, len(data) // 8)))
        middle = len(data) // 2 + rng.randrange(-len(data) // 8, len(data) // 8 + 1)
        replaced = len(block) // 3
        path.write_bytes(data[:middle] + block + data[middle + replaced :])
        budget -= len(block)
        stats.text_files_modified += 1
        stats.text_bytes_inserted += len(block)
        stats.touched_paths.append(rel)


def _append_text(
    dest: Path,
    rng: random.Random,
    files: list[str],
    budget: int,
    source: TextSource,
    stats: MutationStats,
) -> None:
    while budget > 0 and files:
        rel = files.pop()
        path = dest / rel
        block = source.text(rng, min(budget, max(512, path.stat().st_size // 10)))
        with path.open("ab") as handle:
            handle.write(block)
        budget -= len(block)
        stats.text_files_appended += 1
        stats.text_bytes_appended += len(block)
        stats.touched_paths.append(rel)


def _delete_files(dest: Path, rels: list[str]) -> None:
    for rel in rels:
        (dest / rel).unlink()


def _add_small_files(
    dest: Path,
    rng: random.Random,
    count: int,
    first_index: int,
    source: TextSource,
    stats: MutationStats,
) -> None:
    for index in range(first_index, first_index + count):
        binary = rng.random() < SMALL_BINARY_FRACTION
        data = _small_content(rng, source, binary)
        rel = small_path(index, rng, binary)
        if rng.random() < 0.3:
            rel = rel.replace("small/", "small/added/", 1)
        _write(dest / rel, data)
        stats.small_files_added += 1
        stats.small_bytes_added += len(data)
        stats.touched_paths.append(rel)


def mutate(dest: Path, seed: int = DEFAULT_SEED) -> MutationStats:
    """Deterministically change about 5 % of the dataset in ``dest`` in place."""
    rng = random.Random(f"{seed}:mutate")
    source = TextSource(seed)
    stats = MutationStats()
    total = _dataset_size(dest)
    text_files = _files_under(dest, "text/")
    small_files = _files_under(dest, "small/")

    _rewrite_large_region(dest, rng, int(total * MUTATE_LARGE_REGION), stats)

    candidates = rng.sample(text_files, len(text_files))
    deleted_text = candidates[:MUTATE_DELETE_TEXT_FILES] if len(candidates) > 8 else []
    candidates = candidates[len(deleted_text) :]
    _modify_text_middles(dest, rng, candidates, int(total * MUTATE_TEXT_MIDDLE), source, stats)
    _append_text(dest, rng, candidates, int(total * MUTATE_TEXT_APPEND), source, stats)
    _delete_files(dest, deleted_text)
    stats.text_files_deleted = len(deleted_text)
    stats.touched_paths.extend(deleted_text)

    delete_count = int(len(small_files) * MUTATE_DELETE_SMALL_FILES)
    deleted_small = sorted(rng.sample(small_files, delete_count))
    _delete_files(dest, deleted_small)
    stats.small_files_deleted = len(deleted_small)
    stats.touched_paths.extend(deleted_small)

    add_count = max(1, int(len(small_files) * MUTATE_NEW_SMALL_FILES))
    _add_small_files(dest, rng, add_count, len(small_files) + 1_000_000, source, stats)
    return stats


def tree_digest(root: Path) -> str:
    """SHA-256 over all relative paths and file contents below ``root``."""
    digest = hashlib.sha256()
    for rel in walk_files(root):
        digest.update(rel.encode() + b"\0")
        with (root / rel).open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="create the dataset in DIR")
    gen.add_argument("dir", type=Path)
    gen.add_argument("--seed", type=int, default=DEFAULT_SEED)
    gen.add_argument("--scale", type=float, default=1.0)
    gen.add_argument("--force", action="store_true", help="delete DIR first if it exists")
    mut = sub.add_parser("mutate", help="apply the deterministic ~5%% change to DIR")
    mut.add_argument("dir", type=Path)
    mut.add_argument("--seed", type=int, default=DEFAULT_SEED)
    dig = sub.add_parser("digest", help="print a SHA-256 digest of the tree in DIR")
    dig.add_argument("dir", type=Path)
    args = parser.parse_args()

    if args.command == "generate":
        if args.force and args.dir.exists():
            shutil.rmtree(args.dir)
        stats = generate(args.dir, args.seed, args.scale)
        print(f"{stats.total_files} files, {stats.total_bytes / MIB:.1f} MiB: {stats}")
    elif args.command == "mutate":
        mutation = mutate(args.dir, args.seed)
        touched = len(mutation.touched_paths)
        print(f"changed {mutation.changed_bytes / MIB:.1f} MiB, {touched} paths touched")
    else:
        print(tree_digest(args.dir))


if __name__ == "__main__":
    _main()
