"""PackSubset: parsing --read-data-subset and choosing packs; the pack size formula."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from drkit.errors import UsageError
from drkit.repository.blob import BlobType
from drkit.repository.check import PackSubset
from drkit.repository.crypto import MasterKey, Sealer
from drkit.repository.pack import PackFile, decode_header, expected_size

NAMES = [f"{i:02x}" + "0" * 62 for i in range(256)]


def test_parse_group() -> None:
    assert PackSubset.parse("2/5") == PackSubset(group=(2, 5))
    assert PackSubset.parse(" 1/1 ").describe() == "1/1"


def test_parse_percent() -> None:
    assert PackSubset.parse("12.5%") == PackSubset(percent=12.5)
    assert PackSubset.parse("100%").describe() == "100%"


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "0%", "100.1%", "-5%", "1/", "x", ""])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        PackSubset.parse(text)


def test_default_reads_all() -> None:
    subset = PackSubset()
    assert subset.reads_all
    assert subset.select(reversed(NAMES)) == NAMES


@pytest.mark.parametrize("groups", [1, 2, 3, 7, 256])
def test_groups_partition_the_packs(groups: int) -> None:
    chosen = [PackSubset(group=(n, groups)).select(NAMES) for n in range(1, groups + 1)]
    flat = [name for part in chosen for name in part]
    assert sorted(flat) == NAMES  # every pack once, none twice


def test_group_follows_the_first_byte_like_restic() -> None:
    assert PackSubset(group=(1, 2)).select(["00aa", "01aa", "ffaa", "fe00"]) == ["00aa", "fe00"]
    assert PackSubset(group=(2, 2)).select(["00aa", "01aa", "ffaa"]) == ["01aa", "ffaa"]


def test_percent_picks_that_many_distinct_packs() -> None:
    chosen = PackSubset(percent=10).select(NAMES, random.Random(7))
    assert len(chosen) == 26  # ceil(25.6)
    assert len(set(chosen)) == 26 and set(chosen) <= set(NAMES)


def test_small_percent_of_few_packs_reads_one() -> None:
    assert len(PackSubset(percent=1).select(NAMES[:3])) == 1


def test_expected_pack_size_matches_a_real_pack(tmp_path: Path) -> None:
    sealer = Sealer(MasterKey.generate().encryption)
    pack = PackFile(tmp_path)
    for i, size in enumerate([100, 3000, 1]):
        pack.add(bytes([i]) * 32, BlobType.DATA, b"x" * size, 0)
    finished = pack.finish(sealer)
    raw = finished.path.read_bytes()
    assert finished.size == len(raw)
    assert expected_size(decode_header(raw, sealer)) == len(raw)
