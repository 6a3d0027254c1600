"""Damage one byte of a repository file and see check, restore and repair deal with it.

Each test backs up the sample tree, XORs one byte of one file under the
repository folder (a pack's blob area or header, an index file, a snapshot
file), and runs the real CLI. Where a test needs to know which blob lies
where, it asks the repository layer in-process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Result, Runner, tree_digest
from tests.fixtures.damage import (
    RANDOM_BIN,
    Backup,
    damage_header,
    flip_byte,
    pack_path,
)


def only_file(folder: Path) -> Path:
    files = [p for p in folder.iterdir() if p.is_file()]
    assert len(files) == 1, files
    return files[0]


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
    blob_id = backup.node(RANDOM_BIN).content[-1]
    spot = backup.damage_blob(blob_id)

    assert initialized("check").returncode == 0  # the structure does not read file data

    done = initialized("check", "--read-data")
    assert done.returncode == 13, output(done)
    text = output(done)
    assert spot.pack in text
    assert spot.blob in text
    assert backup.snapshot[:8] in text
    assert backup.path_of(RANDOM_BIN) in text

    done, report = check_json(initialized, "--read-data")
    assert done.returncode == 13
    assert report["damaged_blobs"] == [spot.blob]
    assert {e["name"] for e in report["errors"]} == {spot.pack, spot.blob}
    paths = [p["path"] for p in report["affected"][backup.snapshot]]
    assert paths == [backup.path_of(RANDOM_BIN)]


def test_damaged_tree_blob_hides_what_is_below(initialized: Runner, backup: Backup) -> None:
    subtree = backup.node("docs").subtree
    assert subtree is not None
    spot = backup.damage_blob(subtree)

    for args in ((), ("--read-data",)):
        done, report = check_json(initialized, *args)
        assert done.returncode == 13, done.stderr
        assert spot.blob in report["damaged_blobs"]
        affected = report["affected"][backup.snapshot]
        assert [p["path"] for p in affected] == [backup.path_of("docs")]
        assert "everything below it is unknown" in affected[0]["reason"]

    text = output(initialized("check"))
    assert spot.blob in text
    assert backup.path_of("docs") in text


def test_restore_with_damaged_blob_restores_everything_else(
    initialized: Runner, backup: Backup, restored: Path
) -> None:
    backup.damage_blob(backup.node(RANDOM_BIN).content[0])

    done = restore_and_compare(initialized, backup, restored, skip={RANDOM_BIN})

    assert done.returncode == 3, output(done)
    not_restored = [line for line in done.stdout.splitlines() if "not restored" in line]
    assert len(not_restored) == 1
    assert RANDOM_BIN in not_restored[0]


def test_missing_pack_is_named(initialized: Runner, backup: Backup) -> None:
    tree_pack = backup.locate(backup.node("docs").subtree or b"").pack
    pack_path(backup.repo_dir, tree_pack).unlink()

    done = initialized("check")

    assert done.returncode == 13
    assert f"pack {tree_pack} is named by the index but missing" in done.stdout
    assert backup.snapshot[:8] in done.stdout


# -- pack header damage -----------------------------------------------------------------


def test_damaged_pack_header_is_found_by_read_data(
    initialized: Runner, backup: Backup, restored: Path
) -> None:
    pack = backup.locate(backup.node(RANDOM_BIN).content[0]).pack
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
    pack = backup.locate(backup.node(RANDOM_BIN).content[0]).pack
    damage_header(backup.repo_dir, pack)
    old_index = only_file(backup.repo_dir / "index").name

    done = initialized("repair", "index")

    assert done.returncode == 0, output(done)
    assert f"pack {pack} has a damaged header" in done.stdout
    assert only_file(backup.repo_dir / "index").name != old_index
    assert initialized("check").returncode == 0
    assert restore_and_compare(initialized, backup, restored, skip=set()).returncode == 0


def test_repair_index_reports_a_pack_it_cannot_index(initialized: Runner, backup: Backup) -> None:
    pack = backup.locate(backup.node(RANDOM_BIN).content[0]).pack
    damage_header(backup.repo_dir, pack)
    only_file(backup.repo_dir / "index").unlink()

    done = initialized("repair", "index")

    assert done.returncode == 13
    assert f"pack {pack} cannot be indexed" in done.stdout
    _, report = check_json(initialized)
    affected = {p["path"] for p in report["affected"][backup.snapshot]}
    assert backup.path_of(RANDOM_BIN) in affected
    assert backup.path_of("docs/deep/leaf.txt") in affected


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
