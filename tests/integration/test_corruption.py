"""Damage one byte of a repository file and see check, restore and repair deal with it.

Each test backs up the sample tree, XORs one byte of one file under the
repository folder (a pack's blob area or header, an index file, a snapshot
file), and runs the real CLI. Where a test needs to know which blob lies
where, it asks the repository layer in-process.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drkit.repository.repo import Repository
from drkit.repository.tree import Node
from drkit.storage.local import LocalBackend
from tests.conftest import Result, Runner, tree_digest

RANDOM_BIN = "data/random.bin"


@dataclass
class Backup:
    """A repository holding one snapshot of ``src``."""

    repo_dir: Path
    src: Path
    snapshot: str
    password: str

    def open(self) -> Repository:
        repo = Repository.open(LocalBackend(self.repo_dir), self.password)
        repo.load_index()
        return repo

    def snapshot_path(self, rel: str) -> str:
        """The path a file of ``src`` has inside the snapshot."""
        return f"{self.src}/{rel}"


@pytest.fixture
def backup(
    initialized: Runner, sample_tree: Path, repo_dir: Path, drkit_env: dict[str, str]
) -> Backup:
    done = initialized("backup", "--json", str(sample_tree)).check()
    snap = json.loads(done.stdout)["snapshot"]
    return Backup(repo_dir, sample_tree, snap, drkit_env["DRKIT_PASSWORD"])


def flip_byte(path: Path, offset: int) -> None:
    """XOR one byte of ``path`` (a negative offset counts from the end)."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))


def pack_path(repo_dir: Path, pack: str) -> Path:
    return repo_dir / "data" / pack[:2] / pack


def only_file(folder: Path) -> Path:
    files = [p for p in folder.iterdir() if p.is_file()]
    assert len(files) == 1, files
    return files[0]


def find_node(b: Backup, rel: str) -> Node:
    repo = b.open()
    snap = repo.load_snapshot(b.snapshot)
    wanted = b.snapshot_path(rel)
    for path, node in repo.walk(snap.tree):
        if path == wanted:
            return node
    raise AssertionError(f"{wanted} is not in snapshot {b.snapshot}")


@dataclass
class Spot:
    """Where one blob is stored."""

    blob: str
    pack: str
    offset: int
    length: int


def locate(b: Backup, blob_id: bytes) -> Spot:
    loc = b.open().lookup(blob_id)
    return Spot(blob_id.hex(), loc.pack, loc.offset, loc.length)


def damage_blob(b: Backup, blob_id: bytes) -> Spot:
    spot = locate(b, blob_id)
    flip_byte(pack_path(b.repo_dir, spot.pack), spot.offset + spot.length // 2)
    return spot


def damage_header(repo_dir: Path, pack: str) -> None:
    path = pack_path(repo_dir, pack)
    data = path.read_bytes()
    (hlen,) = struct.unpack("<I", data[-4:])
    flip_byte(path, len(data) - 4 - hlen // 2)


def check_json(drkit: Runner, *args: str) -> tuple[Result, dict[str, Any]]:
    done = drkit("check", "--json", *args)
    return done, json.loads(done.stdout)


def output(done: Result) -> str:
    return done.stdout + done.stderr


def restore_and_compare(drkit: Runner, b: Backup, target: Path, skip: set[str]) -> Result:
    """Restore the snapshot; every file of ``src`` except ``skip`` must come back intact."""
    done = drkit("restore", b.snapshot, "--target", str(target))
    restored = tree_digest(target / b.src.relative_to(b.src.anchor))
    expected = tree_digest(b.src)
    for rel in skip:
        restored.pop(rel, None)
        expected.pop(rel, None)
    assert restored == expected
    return done


# -- data damage ---------------------------------------------------------------------


def test_damaged_data_blob_is_traced_to_its_file(initialized: Runner, backup: Backup) -> None:
    blob_id = find_node(backup, RANDOM_BIN).content[-1]
    spot = damage_blob(backup, blob_id)

    assert initialized("check").returncode == 0  # the structure does not read file data

    done = initialized("check", "--read-data")
    assert done.returncode == 13, output(done)
    text = output(done)
    assert spot.pack in text
    assert spot.blob in text
    assert backup.snapshot[:8] in text
    assert backup.snapshot_path(RANDOM_BIN) in text

    done, report = check_json(initialized, "--read-data")
    assert done.returncode == 13
    assert report["damaged_blobs"] == [spot.blob]
    assert {e["name"] for e in report["errors"]} == {spot.pack, spot.blob}
    paths = [p["path"] for p in report["affected"][backup.snapshot]]
    assert paths == [backup.snapshot_path(RANDOM_BIN)]


def test_damaged_tree_blob_hides_what_is_below(initialized: Runner, backup: Backup) -> None:
    subtree = find_node(backup, "docs").subtree
    assert subtree is not None
    spot = damage_blob(backup, subtree)

    for args in ((), ("--read-data",)):
        done, report = check_json(initialized, *args)
        assert done.returncode == 13, done.stderr
        assert spot.blob in report["damaged_blobs"]
        affected = report["affected"][backup.snapshot]
        assert [p["path"] for p in affected] == [backup.snapshot_path("docs")]
        assert "everything below it is unknown" in affected[0]["reason"]

    text = output(initialized("check"))
    assert spot.blob in text
    assert backup.snapshot_path("docs") in text


def test_restore_with_damaged_blob_restores_everything_else(
    initialized: Runner, backup: Backup, restored: Path
) -> None:
    damage_blob(backup, find_node(backup, RANDOM_BIN).content[0])

    done = restore_and_compare(initialized, backup, restored, skip={RANDOM_BIN})

    assert done.returncode == 3, output(done)
    not_restored = [line for line in done.stdout.splitlines() if "not restored" in line]
    assert len(not_restored) == 1
    assert RANDOM_BIN in not_restored[0]


def test_missing_pack_is_named(initialized: Runner, backup: Backup) -> None:
    tree_pack = locate(backup, find_node(backup, "docs").subtree or b"").pack
    pack_path(backup.repo_dir, tree_pack).unlink()

    done = initialized("check")

    assert done.returncode == 13
    assert f"pack {tree_pack} is named by the index but missing" in done.stdout
    assert backup.snapshot[:8] in done.stdout


# -- pack header damage -----------------------------------------------------------------


def test_damaged_pack_header_is_found_by_read_data(
    initialized: Runner, backup: Backup, restored: Path
) -> None:
    pack = locate(backup, find_node(backup, RANDOM_BIN).content[0]).pack
    damage_header(backup.repo_dir, pack)

    assert initialized("check").returncode == 0  # the structure does not read packs
    done = initialized("check", "--read-data")
    assert done.returncode == 13
    assert f"pack {pack} has a damaged header" in done.stdout

    done, report = check_json(initialized, "--read-data")
    assert done.returncode == 13
    assert pack in {e["name"] for e in report["errors"]}
    assert report["damaged_blobs"] == []  # the blobs were checked at the index's offsets
    assert report["affected"] == {}
    assert restore_and_compare(initialized, backup, restored, skip=set()).returncode == 0


def test_repair_index_keeps_the_old_entries_of_a_pack_with_a_damaged_header(
    initialized: Runner, backup: Backup, restored: Path
) -> None:
    pack = locate(backup, find_node(backup, RANDOM_BIN).content[0]).pack
    damage_header(backup.repo_dir, pack)
    old_index = only_file(backup.repo_dir / "index").name

    done = initialized("repair", "index")

    assert done.returncode == 0, output(done)
    assert f"pack {pack} has a damaged header" in done.stdout
    assert only_file(backup.repo_dir / "index").name != old_index
    assert initialized("check").returncode == 0
    assert restore_and_compare(initialized, backup, restored, skip=set()).returncode == 0


def test_repair_index_reports_a_pack_it_cannot_index(initialized: Runner, backup: Backup) -> None:
    pack = locate(backup, find_node(backup, RANDOM_BIN).content[0]).pack
    damage_header(backup.repo_dir, pack)
    only_file(backup.repo_dir / "index").unlink()

    done = initialized("repair", "index")

    assert done.returncode == 13
    assert f"pack {pack} cannot be indexed" in done.stdout
    _, report = check_json(initialized)
    affected = {p["path"] for p in report["affected"][backup.snapshot]}
    assert backup.snapshot_path(RANDOM_BIN) in affected
    assert backup.snapshot_path("docs/deep/leaf.txt") in affected


# -- index and snapshot damage --------------------------------------------------------


def test_damaged_index_file_is_named_and_repaired(
    initialized: Runner, backup: Backup, restored: Path
) -> None:
    index = only_file(backup.repo_dir / "index")
    flip_byte(index, index.stat().st_size // 2)

    for args in ((), ("--read-data",)):
        done = initialized("check", *args)
        assert done.returncode == 13
        assert f"index file {index.name} is damaged" in done.stdout
        assert "drkit repair index" in output(done)

    assert initialized("restore", "latest", "--target", str(restored)).returncode == 13
    initialized("repair", "index").check()
    initialized("check", "--read-data").check()
    assert not restored.exists()  # the failed restore stopped before writing anything
    assert restore_and_compare(initialized, backup, restored, skip=set()).returncode == 0


def test_damaged_snapshot_file_is_named(initialized: Runner, backup: Backup) -> None:
    second = json.loads(initialized("backup", "--json", str(backup.src)).check().stdout)
    damaged = backup.repo_dir / "snapshots" / backup.snapshot
    flip_byte(damaged, damaged.stat().st_size // 2)

    for args in ((), ("--read-data",)):
        done, report = check_json(initialized, *args)
        assert done.returncode == 13
        assert [e["name"] for e in report["errors"]] == [backup.snapshot]
        assert report["counts"]["snapshots"] == 2
        assert report["counts"]["trees"] > 0  # the intact snapshot was still walked
        assert report["affected"] == {}
    text = initialized("check").stdout
    assert f"snapshot file {backup.snapshot} is damaged" in text
    assert second["snapshot"] not in text
