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

import os
import struct
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import blake3

from drkit.repository.blob import BlobType, PackedBlob
from drkit.repository.crypto import OVERHEAD, DecryptError, Sealer
from drkit.storage.base import Backend, FileKind
from drkit.storage.local import translate_os_error

HEADER_AAD = b"drkit-pack-header"
PACK_VERSION = 1
WRITE_BATCH = 1024 * 1024  # smaller blobs are staged in batches of about this size
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


class PackFile:
    """A pack being filled, streamed into a staging file and hashed as it grows.

    Only the blob list stays in memory, so a backup holds no pack data in RAM.
    """

    def __init__(self, directory: Path | None) -> None:
        try:
            fd, name = tempfile.mkstemp(prefix=".tmp-pack-", dir=directory)
        except OSError as exc:
            raise translate_os_error(
                exc, "cannot create a staging file for a pack", write=True
            ) from exc
        self.fd, self.path = fd, Path(name)
        self.blobs: list[PackedBlob] = []
        self.size = 0
        self._hasher = blake3.blake3()
        self._pending: list[bytes] = []  # small blobs waiting to be written together
        self._pending_size = 0

    def add(self, blob_id: bytes, btype: BlobType, sealed: bytes, raw_length: int) -> None:
        self.blobs.append(PackedBlob(blob_id, btype, self.size, len(sealed), raw_length))
        self.size += len(sealed)
        if len(sealed) >= WRITE_BATCH:  # large: no point copying it into a batch
            self._flush_pending()
            self._write(sealed)
            return
        self._pending.append(sealed)
        self._pending_size += len(sealed)
        if self._pending_size >= WRITE_BATCH:
            self._flush_pending()

    def _flush_pending(self) -> None:
        """One write for many small blobs: each syscall costs a GIL hand-off."""
        if self._pending:
            data = b"".join(self._pending)
            self._pending, self._pending_size = [], 0
            self._write(data)

    def finish(self, sealer: Sealer) -> FinishedPack:
        """Append the header and close the file; the pack's name is its hash."""
        header = encode_header(self.blobs, sealer)
        self._flush_pending()
        self._write(header)
        os.close(self.fd)
        self.fd = -1
        return FinishedPack(
            self._hasher.hexdigest(), self.blobs, self.size + len(header), self.path
        )

    def discard(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self.path.unlink(missing_ok=True)

    def _write(self, data: bytes) -> None:
        self._hasher.update(data)
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            raise translate_os_error(
                exc, f"cannot write the staging file {self.path}", write=True
            ) from exc


@dataclass(frozen=True)
class FinishedPack:
    name: str
    blobs: list[PackedBlob]
    size: int
    path: Path


class Packer:
    """Collects sealed blobs of one type into packs of about ``target`` bytes.

    ``add`` is thread-safe. When a pack is full, the thread that filled it
    hands the finished, staged file to ``store`` outside the lock; ``store``
    owns it from then on (uploads it, indexes it, or removes it on failure).
    """

    def __init__(
        self,
        sealer: Sealer,
        target: int,
        staging: Path | None,
        store: Callable[[FinishedPack], None],
    ) -> None:
        self._sealer = sealer
        self._target = target
        self._staging = staging
        self._store = store
        self._lock = threading.Lock()
        self._open: PackFile | None = None

    def add(self, blob_id: bytes, btype: BlobType, sealed: bytes, raw_length: int) -> None:
        with self._lock:
            if self._open is None:
                self._open = PackFile(self._staging)
            self._open.add(blob_id, btype, sealed, raw_length)
            if self._open.size < self._target:
                return
            full, self._open = self._open, None
        self._write(full)

    def flush(self) -> None:
        with self._lock:
            full, self._open = self._open, None
        if full is not None:
            self._write(full)

    def abort(self) -> None:
        """Drop the pack being filled (after a failure): its staging file goes too."""
        with self._lock:
            open_pack, self._open = self._open, None
        if open_pack is not None:
            open_pack.discard()

    def _write(self, pack: PackFile) -> None:
        try:
            finished = pack.finish(self._sealer)
        except BaseException:
            pack.discard()
            raise
        self._store(finished)
