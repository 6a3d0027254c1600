"""Dump stream sanity checks: the framing each dump tool writes, or the snapshot is refused."""

from __future__ import annotations

import pytest

from drkit.sources.dump_checks import checked, mariadb_sql, pg_custom, redis_rdb
from drkit.sources.errors import DumpFailed


def pg_int(value: int) -> bytes:
    return bytes([1 if value < 0 else 0]) + abs(value).to_bytes(4, "little")


def pg_str(text: bytes) -> bytes:
    return pg_int(len(text)) + text


def pg_header(entries: int = 42, fmt: int = 1, vmin: int = 14) -> bytes:
    head = b"PGDMP" + bytes([1, vmin, 0, 4, 8, fmt])
    head += bytes([0]) if vmin >= 15 else pg_int(-1)
    head += b"".join(pg_int(v) for v in (1, 2, 3, 4, 5, 126, 0))
    head += pg_str(b"app") + pg_str(b"15.8") + pg_str(b"15.8") + pg_int(entries)
    return head + b"\x00" * 200


RDB = b"REDIS0010" + b"\xfa\x09redis-ver" + b"\x00" * 20 + b"\xff" + b"\x11" * 8
MARK = b"0fa270084103d4c618dc" * 2
SQL = b"/*M!999999\\- enable the sandbox mode */\n-- MariaDB dump 10.19\n--\nCREATE...\n"


@pytest.mark.parametrize(
    ("check", "data", "ok"),
    [(pg_custom, pg_header(), True), (pg_custom, pg_header(vmin=15), True),
     (pg_custom, b"PGDMP fake: 26 bytes only\n", False), (pg_custom, b"x" * 500, False),
     (pg_custom, pg_header(fmt=3), False), (pg_custom, pg_header(entries=0), False),
     (pg_custom, pg_header()[:30], False),
     (mariadb_sql, SQL + b"-- Dump completed\n", True),
     (mariadb_sql, SQL + b"-- Dump completed on 2026-12-01  2:00:00\n", True),
     (mariadb_sql, SQL + b"INSERT INTO t VALUES (1", False), (mariadb_sql, b"oops\n", False),
     (redis_rdb, RDB, True), (redis_rdb, RDB + MARK, True), (redis_rdb, RDB[:-3], False),
     (redis_rdb, b"NOTREDIS" + RDB, False)],
)  # fmt: skip
def test_checks(check: object, data: bytes, ok: bool) -> None:
    assert callable(check)
    blocks = [data[i : i + 7] for i in range(0, len(data), 7)]  # any block boundaries
    stream = checked(blocks, check, "dump")
    if ok:
        assert b"".join(stream) == data
    else:
        with pytest.raises(DumpFailed):
            b"".join(stream)
