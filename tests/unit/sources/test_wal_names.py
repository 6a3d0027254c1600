"""Table tests: WAL file names, segment arithmetic, LSNs, history files, segment headers."""

from __future__ import annotations

import struct

import pytest

from drkit.sources.wal_names import (
    HistoryEntry,
    WalFileKind,
    WalFileName,
    check_segment_size,
    format_lsn,
    parse_history,
    parse_lsn,
    parse_wal_name,
    read_segment_header,
    segment_name,
    segment_of,
    segment_start,
    segments_per_log,
)

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("lsn", "size", "segno", "name"),
    [
        (0x0, 16 * MiB, 0, "000000010000000000000000"),
        (0x2000028, 16 * MiB, 2, "000000010000000000000002"),
        (0xFFFFFFFF, 16 * MiB, 255, "0000000100000000000000FF"),
        (0x1_0000_0000, 16 * MiB, 256, "000000010000000100000000"),  # next "log"
        (0x16_B374D848, 16 * MiB, 0x16 * 256 + 0xB3, "0000000100000016000000B3"),
        (0x1_0000_0000, 1 * MiB, 4096, "000000010000000100000000"),
        (0x3FFFFFF, 64 * MiB, 0, "000000010000000000000000"),
        (0x4000000, 64 * MiB, 1, "000000010000000000000001"),
        (0x1_4000_0000, 1024 * MiB, 5, "000000010000000100000001"),
    ],
)
def test_segment_of_lsn_and_its_name(lsn: int, size: int, segno: int, name: str) -> None:
    assert segment_of(lsn, size) == segno
    assert segment_name(1, segno, size) == name
    assert parse_wal_name(name) is not None
    assert parse_wal_name(name).segment_number(size) == segno  # type: ignore[union-attr]
    assert segment_start(segno, size) <= lsn < segment_start(segno + 1, size)


@pytest.mark.parametrize(
    ("size", "per_log"), [(1 * MiB, 4096), (16 * MiB, 256), (64 * MiB, 64), (1024 * MiB, 4)]
)
def test_segments_per_log(size: int, per_log: int) -> None:
    assert segments_per_log(size) == per_log


@pytest.mark.parametrize("size", [0, 512 * 1024, 3 * MiB, 2048 * MiB, 16 * MiB + 1])
def test_invalid_segment_sizes(size: int) -> None:
    with pytest.raises(ValueError):
        check_segment_size(size)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("00000002000000010000003F", WalFileName(2, 1, 0x3F, WalFileKind.SEGMENT)),
        ("00000002000000010000003F.partial", WalFileName(2, 1, 0x3F, WalFileKind.PARTIAL)),
        (
            "000000010000000000000002.00000028.backup",
            WalFileName(1, 0, 2, WalFileKind.BACKUP, offset=0x28),
        ),
        ("0000000A.history", WalFileName(10, 0, 0, WalFileKind.HISTORY)),
        ("00000002000000010000003f", None),  # PostgreSQL writes upper case only
        ("0000000200000001000000", None),
        ("00000002.history.tmp", None),
        ("archive_status", None),
        ("../000000010000000000000001", None),
        ("", None),
    ],
)
def test_parse_wal_name(name: str, expected: WalFileName | None) -> None:
    assert parse_wal_name(name) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0/0", 0),
        ("0/2000028", 0x2000028),
        ("16/B374D848", 0x16_B374D848),
        ("FFFFFFFF/FFFFFFFF", 2**64 - 1),
        (" 1/a ", 0x1_0000000A),
    ],
)
def test_lsn_round_trip(text: str, value: int) -> None:
    assert parse_lsn(text) == value
    assert parse_lsn(format_lsn(value)) == value


@pytest.mark.parametrize("text", ["", "0x10", "1/2/3", "G/1", "123456789/0", "16B374D848"])
def test_bad_lsns(text: str) -> None:
    with pytest.raises(ValueError):
        parse_lsn(text)


def test_parse_history_as_postgres_writes_it() -> None:
    text = (
        "1\t0/3000090\tno recovery target specified\n"
        "\n"
        "# a comment\n"
        "2\t0/5000000\tbefore 2026-11-24 08:00:00+00\n"
    )
    assert parse_history(text) == [
        HistoryEntry(1, 0x3000090, "no recovery target specified"),
        HistoryEntry(2, 0x5000000, "before 2026-11-24 08:00:00+00"),
    ]
    assert parse_history("") == []


@pytest.mark.parametrize("text", ["x\t0/1\treason\n", "1\n", "1\tnot-an-lsn\n"])
def test_malformed_history(text: str) -> None:
    with pytest.raises(ValueError):
        parse_history(text)


def test_segment_header_is_read_from_the_first_page() -> None:
    # XLogLongPageHeaderData as PostgreSQL 15 writes it on x86-64
    raw = struct.pack(
        "<HHIQIIQII", 0xD110, 0x0002, 3, 0x5000000, 0, 0, 7711646098892180757, 16 * MiB, 8192
    )
    header = read_segment_header(raw + bytes(100))
    assert header is not None
    assert header.system_identifier == 7711646098892180757
    assert header.timeline == 3
    assert header.segment_size == 16 * MiB
    assert header.page_address == 0x5000000
    short_page = struct.pack("<HHIQIIQII", 0xD110, 0x0000, 3, 0, 0, 0, 1, 2, 3)
    assert read_segment_header(short_page) is None  # not a long header
    assert read_segment_header(raw[:20]) is None
