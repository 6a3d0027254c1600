"""Sanity checks of a dump stream before its snapshot is saved.

A dump tool that exits 0 can still have written nothing useful (a wrapper
script, a tool that died after printing its header, a proxy that cut the
stream). Each check looks at the first and last bytes of the stream as it
goes into the repository and names what is wrong; :func:`checked` raises
:class:`DumpFailed` at the end of the stream, so the archiver never records
the snapshot:

* pg_dump custom format: the ``PGDMP`` magic, a known archive version, the
  custom format byte, and a header that parses up to its TOC entry count;
* mariadb-dump: a ``-- MariaDB dump``/``-- MySQL dump`` line at the start and the
  ``-- Dump completed`` line it writes last, only when it finished;
* Redis RDB: the ``REDIS`` magic with a 4-digit version, and the EOF opcode
  (0xFF) followed by its 8-byte checksum as the last 9 bytes, or before the
  40-byte EOF mark that ``redis-cli --rdb -`` leaves from a diskless transfer
  (the CRC64 itself is verified by Redis when it loads the file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from drkit.sources.errors import DumpFailed

EDGE = 64 * 1024  # bytes kept from each end of the stream
Check = Callable[[bytes, bytes, int], str | None]  # (head, tail, size) -> what is wrong


def checked(blocks: Iterable[bytes], check: Check, what: str) -> Iterator[bytes]:
    """Pass ``blocks`` through; at their end, raise DumpFailed when ``check`` objects."""
    head, tail, size = bytearray(), b"", 0
    for block in blocks:
        if len(head) < EDGE:
            head += block[: EDGE - len(head)]
        tail = (tail + block)[-EDGE:] if len(block) < EDGE else block[-EDGE:]
        size += len(block)
        yield block
    reason = check(bytes(head), tail, size)
    if reason is not None:
        raise DumpFailed(f"the {what} is not a complete dump ({size} bytes): {reason}")


def _pg_int(data: bytes, at: int, int_size: int) -> tuple[int, int]:
    """One pg_dump archive integer (sign byte + int_size bytes, little-endian)."""
    if at + 1 + int_size > len(data):
        raise ValueError("the header ends early")
    value = int.from_bytes(data[at + 1 : at + 1 + int_size], "little")
    return (-value if data[at] else value), at + 1 + int_size


def _pg_string(data: bytes, at: int, int_size: int) -> int:
    length, at = _pg_int(data, at, int_size)
    if length > 0:
        at += length
    if at > len(data):
        raise ValueError("the header ends early")
    return at


def pg_custom(head: bytes, tail: bytes, size: int) -> str | None:
    """pg_dump --format=custom: magic, version, format and a parsable header."""
    if not head.startswith(b"PGDMP"):
        return "it does not start with the pg_dump magic 'PGDMP'"
    if len(head) < 11:
        return "the archive header is cut short"
    vmaj, vmin, int_size, fmt = head[5], head[6], head[8], head[10]
    if (vmaj, vmin) < (1, 12) or vmaj > 1 or not 1 <= int_size <= 8:
        return f"unknown archive version {vmaj}.{vmin}"
    if fmt != 1:
        return f"archive format {fmt} is not the custom format (1)"
    try:
        at = 11
        at = at + 1 if (vmaj, vmin) >= (1, 15) else _pg_int(head, at, int_size)[1]  # compression
        for _ in range(7):  # creation time: sec, min, hour, mday, mon, year, isdst
            _, at = _pg_int(head, at, int_size)
        for _ in range(3):  # database name, server version, pg_dump version
            at = _pg_string(head, at, int_size)
        entries, at = _pg_int(head, at, int_size)
    except ValueError as exc:
        return str(exc)
    if entries <= 0:
        return f"the table of contents has {entries} entries"
    return None


def mariadb_sql(head: bytes, tail: bytes, size: int) -> str | None:
    """mariadb-dump: its first comment line and the completion line it writes last."""
    first = head[:1024]  # newer versions write a sandbox-mode comment before it
    if b"-- MariaDB dump" not in first and b"-- MySQL dump" not in first:
        return "it does not start with mariadb-dump's '-- MariaDB dump' line"
    if b"-- Dump completed" not in tail[-512:]:
        return "the '-- Dump completed' line is missing: the dump stopped before its end"
    return None


def redis_rdb(head: bytes, tail: bytes, size: int) -> str | None:
    """RDB: magic and version first, the EOF opcode and checksum last."""
    if not (head.startswith(b"REDIS") and head[5:9].isdigit()):
        return "it does not start with the RDB magic 'REDIS' and a version"
    if size >= 18 and tail[-9] == 0xFF:
        return None
    # `redis-cli --rdb -` (diskless transfer) leaves the 40-byte EOF mark after the checksum
    mark = tail[-40:]
    if size >= 58 and tail[-49] == 0xFF and all(c in b"0123456789abcdef" for c in mark):
        return None
    return "it does not end with the RDB end-of-file opcode and checksum"
