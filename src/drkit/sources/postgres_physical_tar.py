"""Watching a base backup's tar stream go by, and unpacking one into a data directory.

:class:`TarScanner` sits between ``pg_basebackup``'s standard output and the
chunker: it parses only the 512-byte member headers (content is skipped by
counting), keeps the content of a few small members (``backup_label``), and
knows whether the archive ended with its end-of-archive blocks. Nothing is
buffered beyond one header.

:func:`unpack` extracts a stored tar stream into a directory with
:mod:`tarfile` in streaming mode (no seeking, no temporary copy).
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path

BLOCK = 512
KEEP_LIMIT = 1024 * 1024  # largest member content kept by the scanner


class TarScanner:
    """Parses tar headers from blocks fed in order; keeps the members named in ``keep``."""

    def __init__(self, keep: set[str]) -> None:
        self.keep = keep
        self.kept: dict[str, bytes] = {}
        self.members = 0
        self.ended = False
        self._header = b""
        self._skip = 0  # content bytes (with padding) still to pass over
        self._capture: tuple[str, int] | None = None  # (name, size) being kept
        self._captured = bytearray()
        self._long_name: str | None = None

    def watch(self, blocks: Iterable[bytes]) -> Iterator[bytes]:
        """Pass ``blocks`` through unchanged, scanning each on the way."""
        for block in blocks:
            self.feed(block)
            yield block

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.ended:
            if self._skip:
                take = min(self._skip, len(view))
                self._content(view[:take])
                self._skip -= take
                view = view[take:]
                continue
            take = min(BLOCK - len(self._header), len(view))
            self._header += bytes(view[:take])
            view = view[take:]
            if len(self._header) == BLOCK:
                header, self._header = self._header, b""
                self._on_header(header)

    def _content(self, piece: memoryview) -> None:
        if self._capture is None:
            return
        name, size = self._capture
        self._captured += piece[: max(0, size - len(self._captured))]
        if len(self._captured) >= size:
            self._finish_capture(name)

    def _finish_capture(self, name: str) -> None:
        data = bytes(self._captured)
        if name == "././@LongLink":
            self._long_name = data.rstrip(b"\0").decode("utf-8", "replace")
        else:
            self.kept[name] = data
        self._capture, self._captured = None, bytearray()

    def _on_header(self, header: bytes) -> None:
        if header == bytes(BLOCK):
            self.ended = True  # the first of the two end-of-archive blocks
            return
        size = _octal(header[124:136])
        kind = header[156:157]
        name = self._long_name or _name(header)
        self._long_name = None
        padded = -(-size // BLOCK) * BLOCK
        if kind == b"L":  # GNU long name: the content is the next member's name
            self._capture = ("././@LongLink", size)
        else:
            self.members += 1
            if name in self.keep and size <= KEEP_LIMIT:
                self._capture = (name, size)
        self._skip = padded
        if self._capture is not None and size == 0:
            self._finish_capture(self._capture[0])


def _name(header: bytes) -> str:
    name = header[0:100].split(b"\0", 1)[0].decode("utf-8", "replace")
    prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8", "replace")
    if header[257:262] == b"ustar" and prefix:
        name = f"{prefix}/{name}"
    return name.removeprefix("./")


def _octal(field: bytes) -> int:
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


class _BlockFile:
    """A read-only file over an iterator of blocks, for tarfile's streaming mode."""

    def __init__(self, blocks: Iterable[bytes]) -> None:
        self._blocks = iter(blocks)
        self._block = b""
        self._pos = 0  # read position in the current block (no copying of what is left)

    def read(self, size: int = -1) -> bytes:
        pieces: list[bytes] = []
        wanted = size
        while wanted != 0:
            if self._pos >= len(self._block):
                block = next(self._blocks, None)
                if block is None:
                    break
                self._block, self._pos = block, 0
                continue
            end = len(self._block) if wanted < 0 else min(len(self._block), self._pos + wanted)
            pieces.append(self._block[self._pos : end])
            if wanted > 0:
                wanted -= end - self._pos
            self._pos = end
        return b"".join(pieces)


def unpack(blocks: Iterable[bytes], target: Path) -> int:
    """Extract the tar stream ``blocks`` into ``target``; return the number of members.

    Owners are restored by number when running as root (the tar holds the
    server's uid/gid), and the ``tar`` filter refuses absolute paths and
    links leaving ``target``. Members pg_basebackup adds itself carry made-up
    owners (``backup_manifest``: uid 2048, gid 1024): every member takes the
    owner of ``PG_VERSION``, the server's user, so ``pg_verifybackup`` and the
    server can read all of them.
    """
    count = 0
    server: tuple[int, int] | None = None
    owners: list[tuple[str, int, int]] = []
    with tarfile.open(fileobj=_BlockFile(blocks), mode="r|") as tar:  # type: ignore[call-overload]
        for member in tar:
            tar.extract(member, target, numeric_owner=True, filter="tar")
            count += 1
            owners.append((member.name, member.uid, member.gid))
            if member.name.removeprefix("./") == "PG_VERSION":
                server = (member.uid, member.gid)
    if server is not None and os.geteuid() == 0:
        for name, uid, gid in owners:
            if (uid, gid) != server:
                os.chown(target / name, *server, follow_symlinks=False)
    return count
