"""IndexRebuilder and read_pack_header on an in-memory repository."""

from __future__ import annotations

import pytest

from drkit.repository.check import Checker
from drkit.repository.pack import PackFormatError, decode_header, read_header
from drkit.repository.repair import IndexRebuilder
from drkit.repository.repo import Repository
from drkit.storage.base import FileKind
from tests.unit.repository.test_check_checker import TREE, backup, edit, new_repo, reopen


@pytest.fixture
def repo() -> Repository:
    return new_repo()


def packs(repo: Repository) -> dict[str, int]:
    return {i.name: i.size for i in repo.backend.list(FileKind.PACK)}


def index_files(repo: Repository) -> set[str]:
    return {i.name for i in repo.backend.list(FileKind.INDEX)}


def test_read_pack_header_equals_decode_header(repo: Repository) -> None:
    backup(repo, TREE)
    for name, size in packs(repo).items():
        whole = repo.backend.load(FileKind.PACK, name)
        assert read_header(repo.backend, name, size, repo.sealer) == decode_header(
            whole, repo.sealer
        )


def test_read_pack_header_rejects_damage(repo: Repository) -> None:
    backup(repo, TREE)
    name, size = next(iter(packs(repo).items()))

    def flip(data: bytearray) -> None:
        data[-8] ^= 1

    edit(repo, FileKind.PACK, name, flip)
    with pytest.raises(PackFormatError):
        read_header(repo.backend, name, size, repo.sealer)
    with pytest.raises(PackFormatError):
        read_header(repo.backend, name, 3, repo.sealer)


def test_rebuild_replaces_every_index_file(repo: Repository) -> None:
    backup(repo, TREE)
    backup(repo, {"other": b"o" * 99})
    old = index_files(repo)
    assert len(old) == 2

    report = IndexRebuilder(reopen(repo)).run()

    assert index_files(repo) == {report.new_index}
    assert sorted(report.removed_index) == sorted(old)
    assert report.packs == 4 and report.blobs == 6 + 2
    assert Checker(reopen(repo)).run().ok


def test_rebuild_from_nothing_restores_a_lost_index(repo: Repository) -> None:
    backup(repo, TREE)
    for name in index_files(repo):
        repo.backend.remove(FileKind.INDEX, name)
    assert not Checker(reopen(repo)).run().ok

    report = IndexRebuilder(reopen(repo)).run()

    assert report.removed_index == [] and report.unindexed == {}
    assert Checker(reopen(repo)).run().ok


def test_damaged_header_falls_back_to_the_old_index(repo: Repository) -> None:
    backup(repo, TREE)
    name = next(iter(packs(repo)))

    def flip(data: bytearray) -> None:
        data[-8] ^= 1

    edit(repo, FileKind.PACK, name, flip)
    report = IndexRebuilder(reopen(repo)).run()

    assert report.from_old_index == [name]
    assert report.unindexed == {}
    assert Checker(reopen(repo)).run().ok


def test_empty_repository_writes_no_index(repo: Repository) -> None:
    report = IndexRebuilder(reopen(repo)).run()
    assert report.new_index is None
    assert index_files(repo) == set()
