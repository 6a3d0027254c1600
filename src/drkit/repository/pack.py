"""Pack files: many sealed blobs followed by a sealed header.

Layout::

    pack   := sealed_blob* sealed_header header_length:u32le
    header := version:u8 (=1) entry*            (sealed with AAD b"drkit-pack-header")
    entry  := type:u8 id:32 length:u32le raw_length:u32le

Blob offsets are the running sum of the lengths before them. A pack's name is
the unkeyed BLAKE3 of its whole content, so a damaged pack is recognised even
without the key.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from drkit.repository.blob import BlobType, PackedBlob
from drkit.repository.crypto import OVERHEAD, DecryptError, Sealer
from drkit.storage.base import Backend, FileKind

HEADER_AAD = b"drkit-pack-header"
PACK_VERSION = 1
_ENTRY = struct.Struct("<B32sII")
_TRAILER = struct.Struct("<I")


class PackFormatError(Exception):
    """A pack's header cannot be read."""


def encode_header(blobs: list[PackedBlob], sealer: Sealer) -> bytes:
    plain = bytearray([PACK_VERSION])
    for blob in blobs:
        plain += _ENTRY.pack(blob.type, blob.id, blob.length, blob.raw_length)
    sealed = sealer.seal(bytes(plain), HEADER_AAD)
    return sealed + _TRAILER.pack(len(sealed))


def decode_header(pack: bytes, sealer: Sealer) -> list[PackedBlob]:
    """Read the blob list of a whole pack file held in memory."""
    if len(pack) < _TRAILER.size:
        raise PackFormatError("pack is shorter than its trailer")
    (hlen,) = _TRAILER.unpack_from(pack, len(pack) - _TRAILER.size)
    start = len(pack) - _TRAILER.size - hlen
    if start < 0:
        raise PackFormatError("header length points before the start of the pack")
    sealed = memoryview(pack)[start : len(pack) - _TRAILER.size]
    return parse_header(open_header(sealed, sealer), start)


def read_header(backend: Backend, name: str, size: int, sealer: Sealer) -> list[PackedBlob]:
    """Read a pack's blob list from its trailer and header only (two ranged reads)."""
    if size < _TRAILER.size + OVERHEAD:
        raise PackFormatError("pack is shorter than an empty header")
    (hlen,) = _TRAILER.unpack(backend.load(FileKind.PACK, name, size - _TRAILER.size, 4))
    start = size - _TRAILER.size - hlen
    if start < 0:
        raise PackFormatError("header length points before the start of the pack")
    sealed = backend.load(FileKind.PACK, name, start, hlen)
    if len(sealed) != hlen:
        raise PackFormatError("pack is shorter than its header says")
    return parse_header(open_header(sealed, sealer), start)


def open_header(sealed: bytes | memoryview, sealer: Sealer) -> bytes:
    try:
        return sealer.open(sealed, HEADER_AAD)
    except DecryptError as exc:
        raise PackFormatError(f"header does not decrypt: {exc}") from None


def parse_header(plain: bytes, data_end: int) -> list[PackedBlob]:
    """Blob entries of a decrypted header; their lengths must add up to ``data_end``."""
    if not plain or plain[0] != PACK_VERSION or (len(plain) - 1) % _ENTRY.size:
        raise PackFormatError("header has an unknown version or a bad length")
    blobs, offset = [], 0
    try:
        for btype, bid, length, raw in _ENTRY.iter_unpack(memoryview(plain)[1:]):
            blobs.append(PackedBlob(bid, BlobType(btype), offset, length, raw))
            offset += length
    except (ValueError, struct.error) as exc:
        raise PackFormatError(f"header has a bad entry: {exc}") from None
    if offset != data_end:
        raise PackFormatError("header's blob lengths do not add up to the pack's data")
    return blobs


def expected_size(blobs: list[PackedBlob]) -> int:
    """A pack's size as its blob list implies: blob data, sealed header, trailer."""
    data_end = max((b.offset + b.length for b in blobs), default=0)
    return data_end + 1 + len(blobs) * _ENTRY.size + OVERHEAD + _TRAILER.size


@dataclass
class OpenPack:
    """A pack being filled in memory."""

    parts: list[bytes | memoryview] = field(default_factory=list)
    blobs: list[PackedBlob] = field(default_factory=list)
    size: int = 0

    def add(self, blob_id: bytes, btype: BlobType, sealed: bytes, raw_length: int) -> None:
        self.blobs.append(PackedBlob(blob_id, btype, self.size, len(sealed), raw_length))
        self.parts.append(sealed)
        self.size += len(sealed)


@dataclass(frozen=True)
class FinishedPack:
    name: str
    blobs: list[PackedBlob]
    size: int


class Packer:
    """Collects sealed blobs of one type into packs of about ``target`` bytes.

    ``add`` is thread-safe. When a pack is full the thread that filled it
    writes it through ``store`` outside the lock, so two workers can write
    two packs at once; ``on_stored`` is then told the blobs' new home.
    """

    def __init__(
        self,
        sealer: Sealer,
        target: int,
        store: Callable[[str, list[bytes | memoryview]], None],
        on_stored: Callable[[FinishedPack], None],
    ) -> None:
        self._sealer = sealer
        self._target = target
        self._store = store
        self._on_stored = on_stored
        self._lock = threading.Lock()
        self._open = OpenPack()

    def add(self, blob_id: bytes, btype: BlobType, sealed: bytes, raw_length: int) -> None:
        with self._lock:
            self._open.add(blob_id, btype, sealed, raw_length)
            if self._open.size < self._target:
                return
            full, self._open = self._open, OpenPack()
        self._write(full)

    def flush(self) -> None:
        with self._lock:
            full, self._open = self._open, OpenPack()
        if full.blobs:
            self._write(full)

    def _write(self, pack: OpenPack) -> None:
        header = encode_header(pack.blobs, self._sealer)
        parts = [*pack.parts, header]
        name = _hash_parts(parts)
        self._store(name, parts)
        self._on_stored(FinishedPack(name, pack.blobs, pack.size + len(header)))


def _hash_parts(parts: list[bytes | memoryview]) -> str:
    import blake3

    hasher = blake3.blake3()
    for part in parts:
        hasher.update(part)
    return hasher.hexdigest()
