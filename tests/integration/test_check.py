"""`drkit check` and `drkit repair index` on healthy repositories, through the real CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner, make_sample_tree, tree_digest


def pack_files(repo_dir: Path) -> list[Path]:
    return sorted(p for p in (repo_dir / "data").glob("*/*") if p.is_file())


def check_json(drkit: Runner, *args: str) -> dict[str, Any]:
    done = drkit("check", "--json", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture
def backed_up(initialized: Runner, sample_tree: Path) -> Runner:
    initialized("backup", str(sample_tree)).check()
    return initialized


@pytest.fixture
def many_packs(initialized: Runner, tmp_path: Path, repo_dir: Path) -> int:
    """Three backups of different trees: two packs each; returns the pack count."""
    for seed in (1, 2, 3):
        src = make_sample_tree(tmp_path / f"src{seed}", seed=seed, files=3)
        initialized("backup", str(src)).check()
    return len(pack_files(repo_dir))


def test_check_passes_on_a_fresh_backup(backed_up: Runner, repo_dir: Path) -> None:
    done = backed_up("check").check()
    assert "no errors were found" in done.stdout

    report = check_json(backed_up, "--read-data")

    assert report["ok"] is True
    assert report["errors"] == [] and report["warnings"] == []
    counts = report["counts"]
    assert counts["snapshots"] == 1
    assert counts["index_files"] == 1
    assert counts["packs"] == len(pack_files(repo_dir)) == counts["packs_read"]
    assert counts["blobs"] == counts["blobs_read"] > 0
    assert counts["bytes_read"] == sum(p.stat().st_size for p in pack_files(repo_dir))


def test_check_of_an_empty_repository_passes(initialized: Runner) -> None:
    report = check_json(initialized, "--read-data")
    assert report["ok"] is True
    assert report["counts"]["packs_read"] == 0


def test_structure_check_reads_no_pack(backed_up: Runner) -> None:
    report = check_json(backed_up)
    assert report["read_data"] is None
    assert report["counts"]["packs_read"] == 0
    assert report["counts"]["trees"] > 0


def test_subset_groups_cover_every_pack_once(many_packs: int, initialized: Runner) -> None:
    assert many_packs >= 6
    for groups in (2, 3):
        reads = [
            check_json(initialized, "--read-data-subset", f"{n}/{groups}")["counts"]["packs_read"]
            for n in range(1, groups + 1)
        ]
        assert sum(reads) == many_packs, reads


def test_subset_percentage_reads_that_share(many_packs: int, initialized: Runner) -> None:
    report = check_json(initialized, "--read-data-subset", "50%")
    assert report["read_data"] == "50%"
    assert report["counts"]["packs_read"] == math.ceil(many_packs / 2)


@pytest.mark.parametrize("subset", ["0/2", "3/2", "0%", "101%", "half"])
def test_invalid_subset_is_a_usage_error(initialized: Runner, subset: str) -> None:
    done = initialized("check", "--read-data-subset", subset)
    assert done.returncode == 2
    assert "invalid read-data subset" in done.stderr


def test_unindexed_pack_is_a_warning_not_an_error(initialized: Runner, sample_tree: Path) -> None:
    killed = initialized("backup", str(sample_tree), env={"DRKIT_CRASH_AT": "pack-saved"})
    assert killed.returncode != 0

    done = initialized("check")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "is not referenced by the index" in done.stdout
    assert "drkit prune" in done.stdout
    warnings = [w["message"] for w in check_json(initialized)["warnings"]]
    assert sum("is not referenced by the index" in w for w in warnings) == 1
    # the killed backup's staged packs are the only other warning
    assert all("is not referenced" in w or "staged pack file(s)" in w for w in warnings)


def test_repair_index_after_losing_every_index_file(
    backed_up: Runner, repo_dir: Path, sample_tree: Path, restored: Path
) -> None:
    for index in (repo_dir / "index").iterdir():
        index.unlink()
    assert backed_up("check").returncode == 13

    done = backed_up("repair", "index", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert [p.name for p in (repo_dir / "index").iterdir()] == [result["new_index"]]
    assert result["packs"] == len(pack_files(repo_dir))
    assert result["unindexed"] == {}
    backed_up("check", "--read-data").check()
    backed_up("restore", "latest", "--target", str(restored)).check()
    assert tree_digest(restored / sample_tree.relative_to(sample_tree.anchor)) == tree_digest(
        sample_tree
    )


def test_repair_index_replaces_several_index_files_with_one(
    many_packs: int, initialized: Runner, repo_dir: Path
) -> None:
    before = check_json(initialized)["counts"]
    assert before["index_files"] == 3

    initialized("repair", "index").check()

    after = check_json(initialized, "--read-data")["counts"]
    assert after["index_files"] == 1
    assert after["blobs"] == before["blobs"]
    assert after["packs_read"] == many_packs
