"""The WAL object format and the archive: sealing, binding, idempotent push, conflicts."""

from __future__ import annotations

import logging
import random
import struct
from pathlib import Path

import pytest

from drkit.repository.repo import Repository
from drkit.sources.wal_archive import PushOutcome, WalArchive, object_name, split_object_name
from drkit.sources.wal_errors import (
    WalConflict,
    WalDamaged,
    WalNameInvalid,
    WalNotArchived,
    WalSystemMismatch,
)
from drkit.sources.wal_format import FLAG_ZSTD, HEADER_SIZE, WalFormatError, WalHeader, open_wal
from drkit.sources.wal_push import fetch_file, push_file
from drkit.storage.base import FileKind
from drkit.storage.memory import MemoryBackend

SEG = 16 * 1024 * 1024
SYSID = 7711646098892180757
NAME = "000000010000000000000003"


@pytest.fixture
def repo() -> Repository:
    return Repository.init(MemoryBackend(), "secret")


def segment(sysid: int = SYSID, fill: int = 1) -> bytes:
    """A 16 MiB segment: a long page header, some random WAL, zeros (as after a switch)."""
    header = struct.pack("<HHIQIIQII", 0xD110, 2, 1, 3 * SEG, 0, 0, sysid, SEG, 8192)
    body = random.Random(fill).randbytes(200_000)
    return (header + body).ljust(SEG, b"\0")


def test_push_then_fetch_round_trip(repo: Repository) -> None:
    archive, data = WalArchive(repo), segment()
    assert archive.push(SYSID, NAME, data) is PushOutcome.STORED
    assert archive.fetch(SYSID, NAME) == data
    stored = repo.backend.load(FileKind.WAL, object_name(SYSID, NAME))
    header = WalHeader.decode(stored)
    assert header.flags & FLAG_ZSTD and header.raw_length == SEG
    assert len(stored) < 400_000  # the zeros compress away
    assert header.content_id == repo.hash_id(data)
    (listed,) = archive.list()
    assert (listed.system_id, listed.name) == (SYSID, NAME)


def test_same_content_twice_is_a_no_op(repo: Repository) -> None:
    archive, data = WalArchive(repo), segment()
    archive.push(SYSID, NAME, data)
    before = repo.backend.load(FileKind.WAL, object_name(SYSID, NAME))
    assert archive.push(SYSID, NAME, data) is PushOutcome.ALREADY_ARCHIVED
    assert repo.backend.load(FileKind.WAL, object_name(SYSID, NAME)) == before


def test_other_content_is_refused_and_the_stored_file_kept(
    repo: Repository, caplog: pytest.LogCaptureFixture
) -> None:
    archive, first = WalArchive(repo), segment(fill=1)
    archive.push(SYSID, NAME, first)
    before = repo.backend.load(FileKind.WAL, object_name(SYSID, NAME))
    with caplog.at_level(logging.ERROR, logger="drkit.wal"), pytest.raises(WalConflict) as caught:
        archive.push(SYSID, NAME, segment(fill=2))
    assert caught.value.exit_code == 24
    assert NAME in caught.value.message
    assert any(r.levelno == logging.ERROR and "WAL conflict" in r.message for r in caplog.records)
    assert repo.backend.load(FileKind.WAL, object_name(SYSID, NAME)) == before
    assert archive.fetch(SYSID, NAME) == first


def test_another_cluster_may_use_the_same_name(repo: Repository) -> None:
    archive = WalArchive(repo)
    archive.push(SYSID, NAME, segment(fill=1))
    archive.push(SYSID + 1, NAME, segment(SYSID + 1, fill=2))
    assert {f.system_id for f in archive.list()} == {SYSID, SYSID + 1}
    assert [f.system_id for f in archive.list(SYSID + 1)] == [SYSID + 1]


def test_a_damaged_stored_object_is_replaced(repo: Repository) -> None:
    archive, data = WalArchive(repo), segment()
    repo.backend.save(FileKind.WAL, object_name(SYSID, NAME), [b"garbage"])
    assert archive.push(SYSID, NAME, data) is PushOutcome.REPLACED_DAMAGED
    assert archive.fetch(SYSID, NAME) == data


@pytest.mark.parametrize("where", [0, 10, 30, HEADER_SIZE + 5, -1])
def test_any_altered_byte_fails_to_open(repo: Repository, where: int) -> None:
    archive = WalArchive(repo)
    archive.push(SYSID, NAME, b"small history text\n" * 10)
    key = object_name(SYSID, NAME)
    raw = bytearray(repo.backend.load(FileKind.WAL, key))
    raw[where] ^= 0x01
    repo.backend.save(FileKind.WAL, key, [bytes(raw)])
    with pytest.raises(WalDamaged):
        archive.fetch(SYSID, NAME)


def test_an_object_under_another_name_fails_to_open(repo: Repository) -> None:
    archive = WalArchive(repo)
    archive.push(SYSID, NAME, b"x" * 1000)
    raw = repo.backend.load(FileKind.WAL, object_name(SYSID, NAME))
    with pytest.raises(WalFormatError):
        open_wal(
            object_name(SYSID, "000000010000000000000004"),
            raw,
            sealer=repo.sealer,
            hash_id=repo.hash_id,
        )


def test_missing_and_invalid_names(repo: Repository) -> None:
    archive = WalArchive(repo)
    with pytest.raises(WalNotArchived):
        archive.fetch(SYSID, NAME)
    for bad in ("../etc/passwd", "000000010000000000000003.tmp", ""):
        with pytest.raises(WalNameInvalid):
            archive.push(SYSID, bad, b"x")
    assert split_object_name("123-00000002.history") is not None
    assert split_object_name("x-00000002.history") is None
    assert split_object_name("123-readme") is None


def test_push_file_takes_the_cluster_from_the_segment_header(
    repo: Repository, tmp_path: Path
) -> None:
    wal = tmp_path / "pg_wal" / NAME
    wal.parent.mkdir()
    wal.write_bytes(segment())
    result = push_file(WalArchive(repo), wal, pgdata=tmp_path)  # no pg_control there
    assert (result.system_id, result.outcome, result.size) == (SYSID, PushOutcome.STORED, SEG)
    (tmp_path / "global").mkdir()
    (tmp_path / "global" / "pg_control").write_bytes((SYSID + 5).to_bytes(8, "little"))
    with pytest.raises(WalSystemMismatch):
        push_file(WalArchive(repo), wal, pgdata=tmp_path)


def test_history_files_take_the_cluster_from_pg_control(repo: Repository, tmp_path: Path) -> None:
    history = tmp_path / "00000002.history"
    history.write_text("1\t0/3000090\tno recovery target specified\n")
    with pytest.raises(Exception, match="cannot tell which cluster"):
        push_file(WalArchive(repo), history, pgdata=tmp_path)
    (tmp_path / "global").mkdir()
    (tmp_path / "global" / "pg_control").write_bytes(SYSID.to_bytes(8, "little") + bytes(100))
    assert push_file(WalArchive(repo), history, pgdata=tmp_path).system_id == SYSID
    dest = tmp_path / "RECOVERYHISTORY"
    assert fetch_file(WalArchive(repo), history.name, dest, pgdata=tmp_path) == dest.stat().st_size
    assert dest.read_text() == history.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
