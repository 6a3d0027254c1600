"""The index: which pack holds each blob.

Index files are written after the packs they describe and before any
snapshot that needs them. Each is zstd-compressed, then sealed (AAD
``b"drkit-index"``); its name is the BLAKE3 of the stored bytes::

    index := magic "DKIX" version:u8 (=1) pack*
    pack  := pack_id:32 count:u32le entry*
    entry := type:u8 blob_id:32 offset:u32le length:u32le raw_length:u32le

Any number of index files may describe the same blob; the in-memory index
keeps one location. The index can be rebuilt from pack headers alone.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable, Iterator

import zstandard

from drkit.repository.blob import BlobLocation, BlobType, PackedBlob
from drkit.repository.crypto import Sealer

INDEX_AAD = b"drkit-index"
_MAGIC = b"DKIX\x01"
_PACK = struct.Struct("<32sI")
_ENTRY = struct.Struct("<B32sIII")


class IndexFormatError(Exception):
    """An index file does not decode."""


def encode_index(packs: Iterable[tuple[str, list[PackedBlob]]], sealer: Sealer) -> bytes:
    out = bytearray(_MAGIC)
    for pack_name, blobs in packs:
        out += _PACK.pack(bytes.fromhex(pack_name), len(blobs))
        for b in blobs:
            out += _ENTRY.pack(b.type, b.id, b.offset, b.length, b.raw_length)
    return sealer.seal(zstandard.ZstdCompressor(level=3).compress(bytes(out)), INDEX_AAD)


def decode_index(stored: bytes, sealer: Sealer) -> list[tuple[str, list[PackedBlob]]]:
    from drkit.repository.crypto import DecryptError

    try:
        plain = zstandard.ZstdDecompressor().decompress(sealer.open(stored, INDEX_AAD))
    except (DecryptError, zstandard.ZstdError) as exc:
        raise IndexFormatError(f"index does not decrypt: {exc}") from None
    if not plain.startswith(_MAGIC):
        raise IndexFormatError("index has an unknown magic or version")
    packs, pos, view = [], len(_MAGIC), memoryview(plain)
    try:
        while pos < len(plain):
            raw_id, count = _PACK.unpack_from(view, pos)
            pos += _PACK.size
            end = pos + count * _ENTRY.size
            if end > len(plain):
                raise IndexFormatError("index is truncated")
            blobs = [
                PackedBlob(bid, BlobType(t), off, ln, raw)
                for t, bid, off, ln, raw in _ENTRY.iter_unpack(view[pos:end])
            ]
            packs.append((raw_id.hex(), blobs))
            pos = end
    except (struct.error, ValueError) as exc:
        raise IndexFormatError(f"index is damaged: {exc}") from None
    return packs


class MasterIndex:
    """All known blob locations, merged from every index file; thread-safe to read."""

    def __init__(self) -> None:
        self._blobs: dict[bytes, BlobLocation] = {}
        self._packs: dict[str, list[PackedBlob]] = {}
        self._lock = threading.Lock()

    def add_pack(self, pack: str, blobs: list[PackedBlob]) -> None:
        with self._lock:
            self._packs[pack] = blobs
            for b in blobs:
                self._blobs.setdefault(
                    b.id, BlobLocation(pack, b.type, b.offset, b.length, b.raw_length)
                )

    def get(self, blob_id: bytes) -> BlobLocation | None:
        return self._blobs.get(blob_id)

    def __contains__(self, blob_id: bytes) -> bool:
        return blob_id in self._blobs

    def __len__(self) -> int:
        return len(self._blobs)

    def packs(self) -> dict[str, list[PackedBlob]]:
        return dict(self._packs)

    def pack_names(self) -> set[str]:
        return set(self._packs)

    def items(self) -> Iterator[tuple[bytes, BlobLocation]]:
        return iter(list(self._blobs.items()))
