"""The byte format of one archived WAL file (``wal/<system id>-<file name>``).

::

    object  := header sealed_body
    header  := magic "DKWL" version:u8 (=1) flags:u8 raw_length:u64le
               pushed_ns:u64le content_id:[32]u8                     (54 bytes)
    sealed_body := nonce(12) || AES-256-GCM(body) || tag(16)
                   AAD = "drkit-wal:" || object name (ASCII) || header
    body    := zstd frame of the file   (flags bit 0 set)
             | the file's bytes          (flags bit 0 clear)

``content_id`` is the file's blob id (BLAKE3 keyed with the repository's id
key), so a second push of the same name can be compared with what is stored
by reading the 54-byte header alone, and reveals nothing without the key.
Binding the name and the header into the AAD means an object copied under
another name, or a header edited in place, fails to open. ``pushed_ns`` is
when drkit stored the file (nanoseconds since the epoch, drkit's clock): the
chain check uses it to say roughly *when* a missing segment's WAL was written.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import zstandard

from drkit.repository.compression import AUTO_LEVEL
from drkit.repository.crypto import DecryptError, IdHasher, Sealer

MAGIC = b"DKWL"
VERSION = 1
FLAG_ZSTD = 0x01
_HEADER = struct.Struct("<4sBBQQ32s")
HEADER_SIZE = _HEADER.size  # 54


class WalFormatError(Exception):
    """An archived WAL object is not in this format, or fails to authenticate."""


@dataclass(frozen=True)
class WalHeader:
    """The clear-text header of an archived WAL object."""

    flags: int
    raw_length: int
    pushed_ns: int
    content_id: bytes

    def encode(self) -> bytes:
        return _HEADER.pack(
            MAGIC, VERSION, self.flags, self.raw_length, self.pushed_ns, self.content_id
        )

    @classmethod
    def decode(cls, raw: bytes) -> WalHeader:
        if len(raw) < HEADER_SIZE:
            raise WalFormatError(f"the object is shorter than its {HEADER_SIZE}-byte header")
        magic, version, flags, raw_length, pushed_ns, content_id = _HEADER.unpack_from(raw)
        if magic != MAGIC:
            raise WalFormatError("the object does not start with the WAL magic 'DKWL'")
        if version != VERSION:
            raise WalFormatError(f"unknown WAL object version {version}")
        return cls(flags, raw_length, pushed_ns, content_id)


def wal_aad(object_name: str, header: bytes) -> bytes:
    return b"drkit-wal:" + object_name.encode("ascii") + header


def seal_wal(
    object_name: str,
    data: bytes,
    *,
    sealer: Sealer,
    hash_id: IdHasher,
    pushed_ns: int,
    level: int = AUTO_LEVEL,
) -> tuple[WalHeader, list[bytes]]:
    """The header and the parts of the object storing ``data`` under ``object_name``.

    The body is compressed when that saves at least 1/32, as blobs are: a WAL
    segment switched early is mostly zeros, a busy one often halves.
    """
    body, flags = data, 0
    if level and data:
        packed = zstandard.ZstdCompressor(level=level).compress(data)
        if len(packed) <= len(data) - (len(data) >> 5):
            body, flags = packed, FLAG_ZSTD
    header = WalHeader(flags, len(data), pushed_ns, hash_id(data))
    raw_header = header.encode()
    return header, [raw_header, sealer.seal(body, wal_aad(object_name, raw_header))]


def open_wal(object_name: str, raw: bytes, *, sealer: Sealer, hash_id: IdHasher) -> bytes:
    """The file stored in ``raw``, authenticated and checked against its content id."""
    header = WalHeader.decode(raw)
    try:
        body = sealer.open(memoryview(raw)[HEADER_SIZE:], wal_aad(object_name, raw[:HEADER_SIZE]))
    except DecryptError as exc:
        raise WalFormatError(f"authentication failed ({exc})") from None
    data = body
    if header.flags & FLAG_ZSTD:
        try:
            data = zstandard.ZstdDecompressor().decompress(body, max_output_size=header.raw_length)
        except zstandard.ZstdError as exc:
            raise WalFormatError(f"cannot decompress: {exc}") from None
    if len(data) != header.raw_length or hash_id(data) != header.content_id:
        raise WalFormatError("the content does not match its recorded id")
    return data
