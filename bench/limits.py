"""How fast this machine could possibly do each phase: the bound a tool is held to.

Measured by the bench on the data set itself, with drkit's own compression
setting (zstd level 2) on one core:

* ``zstd_mib_s`` / ``unzstd_mib_s``: single-core zstd compression and
  decompression of up to 64 MiB of the data set's files, in 1 MiB pieces;
* ``disk_read_mib_s`` / ``disk_write_mib_s``: a 256 MiB file written with
  ``fsync`` and read back after the page cache is dropped (warm when it cannot be);
* ``lstat_per_s``: ``lstat`` of every entry of the tree (warm).

The bound of a phase is the largest of the times those rates allow (zstd
time divided by the cores); a tool's time as a multiple of it says how much
is left to win.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
SAMPLE_BYTES = 64 * MIB
PIECE = MIB
DISK_PROBE_BYTES = 256 * MIB
ZSTD_LEVEL = 2  # drkit's "auto"


@dataclass
class MachineLimits:
    cores: int
    zstd_mib_s: float
    unzstd_mib_s: float
    disk_read_mib_s: float
    disk_write_mib_s: float
    lstat_per_s: float
    cold_read: bool


@dataclass(frozen=True)
class Bound:
    seconds: float
    by: str


def drop_caches() -> bool:
    """Drop the page cache (root only); False when that is not possible here."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as handle:
            handle.write("3\n")
    except OSError:
        return False
    return True


def _sample(tree: Path) -> bytes:
    parts, total = [], 0
    for current, _dirs, names in os.walk(tree):
        for name in sorted(names):
            path = os.path.join(current, name)
            if os.path.islink(path):
                continue
            with open(path, "rb") as handle:
                data = handle.read(SAMPLE_BYTES - total)
            parts.append(data)
            total += len(data)
            if total >= SAMPLE_BYTES:
                return b"".join(parts)
    return b"".join(parts)


def _zstd_rates(sample: bytes) -> tuple[float, float]:
    import zstandard  # the project venv has it; the bench's own code does not need it

    pieces = [sample[i : i + PIECE] for i in range(0, len(sample), PIECE)]
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    start = time.thread_time()
    packed = [compressor.compress(p) for p in pieces]
    compress_s = time.thread_time() - start
    decompressor = zstandard.ZstdDecompressor()
    start = time.thread_time()
    for piece in packed:
        decompressor.decompress(piece)
    decompress_s = time.thread_time() - start
    size_mib = len(sample) / MIB
    return size_mib / max(compress_s, 1e-6), size_mib / max(decompress_s, 1e-6)


def _disk_rates(scratch: Path) -> tuple[float, float, bool]:
    probe = scratch / "disk-probe.bin"
    block = os.urandom(4 * MIB)
    start = time.perf_counter()
    with open(probe, "wb") as handle:
        for _ in range(DISK_PROBE_BYTES // len(block)):
            handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
    write_s = time.perf_counter() - start
    cold = drop_caches()
    start = time.perf_counter()
    with open(probe, "rb") as handle:
        while handle.read(4 * MIB):
            pass
    read_s = time.perf_counter() - start
    probe.unlink()
    size_mib = DISK_PROBE_BYTES / MIB
    return size_mib / read_s, size_mib / write_s, cold


def _lstat_rate(tree: Path) -> float:
    for _ in os.walk(tree):  # warm the directory entries
        pass
    count, start = 0, time.perf_counter()
    for current, dirs, names in os.walk(tree):
        for name in (*dirs, *names):
            os.lstat(os.path.join(current, name))
            count += 1
    return count / max(time.perf_counter() - start, 1e-6)


def measure(tree: Path, scratch: Path) -> MachineLimits:
    zstd, unzstd = _zstd_rates(_sample(tree))
    read, write, cold = _disk_rates(scratch)
    return MachineLimits(os.cpu_count() or 1, zstd, unzstd, read, write, _lstat_rate(tree), cold)


def phase_bound(limits: MachineLimits, phase: str, nbytes: int, entries: int) -> Bound | None:
    """The fastest ``phase`` could run here over ``nbytes`` of data and ``entries`` entries.

    For ``check`` pass the repository's size as ``nbytes``."""
    mib = nbytes / MIB
    stat_s = entries / limits.lstat_per_s
    options: dict[str, list[tuple[float, str]]] = {
        "backup-initial": [
            (mib / (limits.zstd_mib_s * limits.cores), "zstd"),
            (mib / limits.disk_read_mib_s, "disk read"),
            (stat_s, "lstat"),
        ],
        "backup-unchanged": [(stat_s, "lstat")],
        "restore": [
            (mib / (limits.unzstd_mib_s * limits.cores), "unzstd"),
            (mib / limits.disk_write_mib_s, "disk write"),
            (stat_s, "lstat"),
        ],
        "check": [
            (mib / (limits.unzstd_mib_s * limits.cores), "unzstd"),
            (mib / limits.disk_read_mib_s, "disk read"),
        ],
    }
    if phase not in options:
        return None
    seconds, by = max(options[phase])
    return Bound(seconds, by)
