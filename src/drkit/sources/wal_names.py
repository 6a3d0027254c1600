"""PostgreSQL WAL file names, LSN arithmetic and timeline history files (pure functions).

A WAL segment is named ``TTTTTTTTLLLLLLLLSSSSSSSS``: timeline, then the
segment number split into a "log" part and a "seg" part, eight upper-case hex
digits each. With a segment size of S bytes there are ``2**32 // S`` segments
per log, so the number of a name is ``log * (2**32 // S) + seg`` and the
segment holding LSN ``L`` is ``L // S``. Beside segments an archive holds:

* ``TTTTTTTT.history``: how timeline T branched off its ancestors;
* ``<segment>.<offset>.backup``: the backup history file pg_backup_stop writes;
* ``<segment>.partial``: the last, incomplete segment of a timeline that
  ended at a promotion.

Nothing here touches a repository or a server; ``wal_chain`` builds on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_SEGMENT_SIZE = 16 * 1024 * 1024
_LOG_SPAN = 1 << 32  # bytes of WAL per "log" (the middle eight hex digits)

_SEGMENT = r"(?P<tli>[0-9A-F]{8})(?P<log>[0-9A-F]{8})(?P<seg>[0-9A-F]{8})"
_PATTERNS = {
    "segment": re.compile(rf"^{_SEGMENT}$"),
    "partial": re.compile(rf"^{_SEGMENT}\.partial$"),
    "backup": re.compile(rf"^{_SEGMENT}\.(?P<offset>[0-9A-F]{{8}})\.backup$"),
    "history": re.compile(r"^(?P<tli>[0-9A-F]{8})\.history$"),
}
_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


class WalFileKind(StrEnum):
    SEGMENT = "segment"
    PARTIAL = "partial"
    BACKUP = "backup"
    HISTORY = "history"


@dataclass(frozen=True, order=True)
class WalFileName:
    """A parsed WAL archive file name. ``log``/``seg`` are 0 for history files."""

    timeline: int
    log: int
    seg: int
    kind: WalFileKind
    offset: int = 0  # byte offset in the segment, for backup history files

    def segment_number(self, segment_size: int) -> int:
        return self.log * segments_per_log(segment_size) + self.seg


def parse_wal_name(name: str) -> WalFileName | None:
    """The parsed name, or None when ``name`` is not a WAL archive file name."""
    for kind, pattern in _PATTERNS.items():
        match = pattern.match(name)
        if match is None:
            continue
        groups = match.groupdict()
        return WalFileName(
            timeline=int(groups["tli"], 16),
            log=int(groups.get("log") or "0", 16),
            seg=int(groups.get("seg") or "0", 16),
            kind=WalFileKind(kind),
            offset=int(groups.get("offset") or "0", 16),
        )
    return None


def check_segment_size(size: int) -> int:
    """``size`` if PostgreSQL allows it (a power of two from 1 MiB to 1 GiB), else ValueError."""
    if size < 1 << 20 or size > 1 << 30 or size & (size - 1):
        raise ValueError(f"{size} is not a valid WAL segment size")
    return size


def segments_per_log(segment_size: int) -> int:
    return _LOG_SPAN // check_segment_size(segment_size)


def segment_name(timeline: int, segno: int, segment_size: int) -> str:
    """The file name of segment ``segno`` on ``timeline``."""
    per_log = segments_per_log(segment_size)
    return f"{timeline:08X}{segno // per_log:08X}{segno % per_log:08X}"


def history_name(timeline: int) -> str:
    return f"{timeline:08X}.history"


def segment_of(lsn: int, segment_size: int) -> int:
    """The number of the segment that holds the byte at ``lsn``."""
    return lsn // check_segment_size(segment_size)


def segment_start(segno: int, segment_size: int) -> int:
    """The LSN of the first byte of segment ``segno``."""
    return segno * check_segment_size(segment_size)


def parse_lsn(text: str) -> int:
    """``'16/B374D848'`` -> the 64-bit position. ValueError on anything else."""
    match = _LSN.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an LSN (expected hex like 0/16B3748)")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


# -- timeline history files ---------------------------------------------------------
@dataclass(frozen=True)
class HistoryEntry:
    """One line of a history file: ``timeline`` ended at ``switch_lsn`` (its child began)."""

    timeline: int
    switch_lsn: int
    reason: str = ""


def parse_history(text: str) -> list[HistoryEntry]:
    """The entries of a ``.history`` file, oldest ancestor first. ValueError when malformed.

    Lines are ``parentTLI<TAB>switchpoint<TAB>reason``; blank lines and
    ``#`` comments are skipped, as PostgreSQL's own reader does.
    """
    entries: list[HistoryEntry] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = stripped.split(None, 2)
        if len(fields) < 2 or not fields[0].isdigit():
            raise ValueError(f"line {number}: expected 'timeline<TAB>LSN<TAB>reason'")
        reason = fields[2] if len(fields) > 2 else ""
        entries.append(HistoryEntry(int(fields[0]), parse_lsn(fields[1]), reason))
    return entries


# -- segment headers ----------------------------------------------------------------
# The first page of every segment starts with XLogLongPageHeaderData:
# magic u16, info u16, timeline u32, pageaddr u64, rem_len u32, padding u32,
# system identifier u64 (offset 24), segment size u32 (offset 32), block size u32.
LONG_HEADER_SIZE = 40
_XLP_LONG_HEADER = 0x0002


@dataclass(frozen=True)
class SegmentHeader:
    """What a segment's first page says about the cluster that wrote it."""

    timeline: int
    page_address: int
    system_identifier: int
    segment_size: int


def read_segment_header(first_bytes: bytes) -> SegmentHeader | None:
    """The long page header of a segment (native little-endian), or None if it has none."""
    if len(first_bytes) < LONG_HEADER_SIZE:
        return None
    info = int.from_bytes(first_bytes[2:4], "little")
    if not info & _XLP_LONG_HEADER:
        return None
    return SegmentHeader(
        timeline=int.from_bytes(first_bytes[4:8], "little"),
        page_address=int.from_bytes(first_bytes[8:16], "little"),
        system_identifier=int.from_bytes(first_bytes[24:32], "little"),
        segment_size=int.from_bytes(first_bytes[32:36], "little"),
    )
