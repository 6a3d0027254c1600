"""Per-blob zstd compression, skipped when it does not pay.

A blob is stored compressed only if that saves at least 1/32 of its size;
otherwise raw (its index entry then has raw_length 0). Compressors are not
thread-safe, so each thread keeps its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import zstandard

from drkit.errors import UsageError

AUTO_LEVEL = 2  # measured: level 3's ratio within 1% at 30% more speed (docs/benchmarks.md)
MAX_LEVEL = 19


@dataclass(frozen=True)
class Compression:
    """A compression setting: ``off``, ``auto``, ``max`` or ``zstd:N``."""

    level: int  # 0 = off

    @classmethod
    def parse(cls, text: str) -> Compression:
        if text == "off":
            return cls(0)
        if text == "auto":
            return cls(AUTO_LEVEL)
        if text == "max":
            return cls(MAX_LEVEL)
        if text.startswith("zstd:") and text[5:].isdigit() and 1 <= int(text[5:]) <= 22:
            return cls(int(text[5:]))
        raise UsageError(
            f"unknown compression {text!r}", hint="use off, auto, max or zstd:N with N from 1 to 22"
        )


class Compressor:
    """Compresses blobs with a per-thread zstd context."""

    def __init__(self, setting: Compression) -> None:
        self.setting = setting
        self._local = threading.local()

    def compress(self, data: bytes | memoryview) -> tuple[bytes | memoryview, int]:
        """Return (stored bytes, raw_length); raw_length 0 means stored uncompressed."""
        if self.setting.level == 0 or len(data) < 64:
            return data, 0
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx = self._local.ctx = zstandard.ZstdCompressor(level=self.setting.level)
        packed = ctx.compress(data)
        if len(packed) > len(data) - (len(data) >> 5):
            return data, 0
        return packed, len(data)


_dlocal = threading.local()


def decompress(stored: bytes, raw_length: int) -> bytes:
    """Undo :meth:`Compressor.compress`; raises zstandard.ZstdError on damage."""
    if raw_length == 0:
        return stored
    ctx = getattr(_dlocal, "ctx", None)
    if ctx is None:
        ctx = _dlocal.ctx = zstandard.ZstdDecompressor()
    out = ctx.decompress(stored, max_output_size=raw_length)
    if len(out) != raw_length:
        raise zstandard.ZstdError("decompressed length differs from the index")
    return out
