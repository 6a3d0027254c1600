"""The last transaction end a WAL segment records: what recovery to a time can reach.

PostgreSQL stops at ``recovery_target_time`` only on a commit or abort record
whose ``xact_time`` is past the target; without one, recovery ends "before the
configured recovery target was reached". So the true recovery window of an
archive is set by the commit times inside its segments, not by when drkit
stored them (archiving can lag minutes behind under load).

:func:`last_xact_time` walks a segment's records (PostgreSQL 10 and later,
little-endian): pages of ``xlp_xlog_blcksz`` bytes with a short (24-byte) or,
on the first page, long (40-byte) header, records MAXALIGNed (8), each with a
24-byte ``XLogRecord`` header whose ``xl_tot_len`` leads to the next. Every
page's ``xlp_pageaddr`` and every record's ``xl_prev`` are checked, so stale
bytes of a recycled segment end the walk instead of being read as records.
For records of the transaction manager (``RM_XACT_ID``) with a commit or abort
opcode, the main data starts with ``xact_time`` (microseconds since
2000-01-01 UTC). A record continuing into the next segment is not read.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_PAGE = struct.Struct("<HHIQI")  # magic, info, tli, pageaddr, rem_len
_LONG = struct.Struct("<QII")  # sysid, seg_size, blcksz (after the short header)
_RECORD = struct.Struct("<IIQBBxxI")  # tot_len, xid, prev, info, rmid, crc
SHORT_HEADER, LONG_HEADER, RECORD_HEADER = 24, 40, 24
XLP_FIRST_IS_CONTRECORD, XLP_LONG_HEADER = 0x0001, 0x0002
RM_XACT_ID = 1
XACT_OPMASK = 0x70
XACT_ENDS = {0x00, 0x20, 0x30, 0x40}  # COMMIT, ABORT, COMMIT_PREPARED, ABORT_PREPARED
BLOCK_ID_DATA_SHORT, BLOCK_ID_DATA_LONG = 255, 254
BLOCK_ID_ORIGIN, BLOCK_ID_TOPLEVEL_XID = 253, 252


def _align(n: int) -> int:
    return (n + 7) & ~7


def pg_time(micros: int) -> datetime:
    return PG_EPOCH + timedelta(microseconds=micros)


PG_EPOCH_UNIX_MICROS = 946_684_800 * 1_000_000


def last_xact_time(segment: bytes) -> datetime | None:
    """The latest commit/abort time recorded in ``segment``; None when it has none."""
    found = xact_times(segment)
    return pg_time(max(found)) if found else None


def last_xact_unix_ns(segment: bytes) -> int:
    """The same as nanoseconds since the Unix epoch (exact); 0 when it has none."""
    found = xact_times(segment)
    return (max(found) + PG_EPOCH_UNIX_MICROS) * 1000 if found else 0


def unix_ns_time(ns: int) -> datetime | None:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000) if ns else None


def xact_times(segment: bytes) -> list[int]:
    """``xact_time`` of every commit/abort record that starts in ``segment`` (microseconds)."""
    layout = _layout(segment)
    if layout is None:
        return []
    stream, lsn_of, skip = layout
    times: list[int] = []
    pos, prev = _align(skip), None
    while pos + RECORD_HEADER <= len(stream):
        tot_len, _xid, xl_prev, info, rmid, _crc = _RECORD.unpack_from(stream, pos)
        if tot_len < RECORD_HEADER or pos + tot_len > len(stream):
            break  # the end of the WAL, or a record that continues in the next segment
        if prev is not None and xl_prev != lsn_of(prev):
            break  # not a record of this WAL stream: stale bytes of a recycled segment
        if rmid == RM_XACT_ID and info & XACT_OPMASK in XACT_ENDS:
            when = _xact_time(stream, pos, tot_len)
            if when is not None:
                times.append(when)
        prev, pos = pos, _align(pos + tot_len)
    return times


def _layout(segment: bytes) -> tuple[bytes, Callable[[int], int], int] | None:
    """The record bytes with page headers taken out, an LSN mapper, and the bytes to skip."""
    if len(segment) < LONG_HEADER:
        return None
    magic, info, _tli, seg_addr, rem_len = _PAGE.unpack_from(segment, 0)
    if not info & XLP_LONG_HEADER:
        return None
    _sysid, _seg_size, blcksz = _LONG.unpack_from(segment, SHORT_HEADER)
    if not 1024 <= blcksz <= 65536 or blcksz & (blcksz - 1) or len(segment) % blcksz:
        return None
    parts = [segment[LONG_HEADER:blcksz]]
    for page in range(1, len(segment) // blcksz):
        at = page * blcksz
        p_magic, _, _, addr, _ = _PAGE.unpack_from(segment, at)
        if p_magic != magic or addr != seg_addr + at:
            break  # a page never written since the segment was recycled
        parts.append(segment[at + SHORT_HEADER : at + blcksz])
    first = blcksz - LONG_HEADER
    other = blcksz - SHORT_HEADER

    def lsn_of(pos: int) -> int:
        if pos < first:
            return int(seg_addr + LONG_HEADER + pos)
        page, offset = divmod(pos - first, other)
        return int(seg_addr + (page + 1) * blcksz + SHORT_HEADER + offset)

    skip = rem_len if info & XLP_FIRST_IS_CONTRECORD else 0
    return b"".join(parts), lsn_of, skip


def _xact_time(stream: bytes, pos: int, tot_len: int) -> int | None:
    """The ``xact_time`` at the start of a transaction record's main data."""
    at, end = pos + RECORD_HEADER, pos + tot_len
    while at < end:
        block_id = stream[at]
        if block_id == BLOCK_ID_DATA_SHORT:
            at += 2
        elif block_id == BLOCK_ID_DATA_LONG:
            at += 5
        elif block_id == BLOCK_ID_ORIGIN:
            at += 3
            continue
        elif block_id == BLOCK_ID_TOPLEVEL_XID:
            at += 5
            continue
        else:
            return None  # block references: never on commit records, not worth decoding
        if at + 8 > end:
            return None
        return int(struct.unpack_from("<q", stream, at)[0])
    return None
