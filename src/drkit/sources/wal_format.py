"""The byte format of one archived WAL file (``wal/<system id>-<file name>``).

::

    object  := header sealed_body
    header  := magic "DKWL" version:u8 flags:u8 raw_length:u64le
               pushed_ns:u64le content_id:[32]u8                     (v1: 54 bytes)
               [last_xact_ns:i64le]                                   (v2: 62 bytes)
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
``last_xact_ns`` (version 2, written since drkit records it) is the latest
commit or abort time inside the segment, read from its records at push time
(:mod:`drkit.sources.wal_records`; 0 when it holds none, or for other files):
it is what recovery to a time can reach, while ``pushed_ns`` can lag far
behind. Version 1 objects are still read; they lack it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import zstandard

from drkit.repository.compression import AUTO_LEVEL

if TYPE_CHECKING:  # the crypto (and blake3) loads when WAL is read or written
    from drkit.repository.crypto import IdHasher, Sealer

MAGIC = b"DKWL"
VERSION = 2
FLAG_ZSTD = 0x01
_HEADER_V1 = struct.Struct("<4sBBQQ32s")
_XACT = struct.Struct("<q")
HEADER_SIZE = _HEADER_V1.size + _XACT.size  # 62: what a reader loads to decode any version


class WalFormatError(Exception):
    """An archived WAL object is not in this format, or fails to authenticate."""


@dataclass(frozen=True)
class WalHeader:
    """The clear-text header of an archived WAL object."""

    flags: int
    raw_length: int
    pushed_ns: int
    content_id: bytes
    last_xact_ns: int = 0  # the latest commit/abort time in the segment; 0: none or unknown
    version: int = VERSION

    @property
    def size(self) -> int:
        return _HEADER_V1.size + (_XACT.size if self.version >= 2 else 0)

    def encode(self) -> bytes:
        head = _HEADER_V1.pack(
            MAGIC, self.version, self.flags, self.raw_length, self.pushed_ns, self.content_id
        )
        return head + (_XACT.pack(self.last_xact_ns) if self.version >= 2 else b"")

    @classmethod
    def decode(cls, raw: bytes) -> WalHeader:
        if len(raw) < _HEADER_V1.size:
            raise WalFormatError(f"the object is shorter than its {_HEADER_V1.size}-byte header")
        magic, version, flags, raw_length, pushed_ns, content_id = _HEADER_V1.unpack_from(raw)
        if magic != MAGIC:
            raise WalFormatError("the object does not start with the WAL magic 'DKWL'")
        if version not in (1, 2):
            raise WalFormatError(f"unknown WAL object version {version}")
        last_xact = 0
        if version >= 2:
            if len(raw) < HEADER_SIZE:
                raise WalFormatError(f"the object is shorter than its {HEADER_SIZE}-byte header")
            last_xact = _XACT.unpack_from(raw, _HEADER_V1.size)[0]
        return cls(flags, raw_length, pushed_ns, content_id, last_xact, version)


def wal_aad(object_name: str, header: bytes) -> bytes:
    return b"drkit-wal:" + object_name.encode("ascii") + header


def seal_wal(
    object_name: str,
    data: bytes,
    *,
    sealer: Sealer,
    hash_id: IdHasher,
    pushed_ns: int,
    last_xact_ns: int = 0,
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
    header = WalHeader(flags, len(data), pushed_ns, hash_id(data), last_xact_ns)
    raw_header = header.encode()
    return header, [raw_header, sealer.seal(body, wal_aad(object_name, raw_header))]


def open_wal(object_name: str, raw: bytes, *, sealer: Sealer, hash_id: IdHasher) -> bytes:
    """The file stored in ``raw``, authenticated and checked against its content id."""
    from drkit.repository.crypto import DecryptError

    header = WalHeader.decode(raw)
    size = header.size
    try:
        body = sealer.open(memoryview(raw)[size:], wal_aad(object_name, raw[:size]))
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
