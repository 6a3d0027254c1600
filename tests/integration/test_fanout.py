"""`drkit backup --policy`: the sources are read once and land in every repository."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Runner, policy_settings, tree_digest


def test_policy_backup_writes_every_repository_once(
    drkit: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    cfg = str(policy_settings(tmp_path, sample_tree))
    for name in ("nas", "cloud"):
        drkit("--config", cfg, "--repo", name, "init").check()

    first = json.loads(drkit("--config", cfg, "backup", "--policy", "app", "--json").check().stdout)
    assert [r["name"] for r in first["repositories"]] == ["nas", "cloud"]
    assert all(r["summary"]["data_blobs_added"] > 0 for r in first["repositories"])
    assert first["summary"]["bytes_read"] > 0  # read once, for both

    ids = {}
    for name in ("nas", "cloud"):
        snaps = json.loads(
            drkit("--config", cfg, "--repo", name, "snapshots", "--json").check().stdout
        )
        ids[name] = [(s["id"], s["time"], s["tags"]) for s in snaps]
        out = tmp_path / f"out-{name}"
        drkit("--config", cfg, "--repo", name, "restore", "latest", "--target", str(out)).check()
        assert tree_digest(out / str(sample_tree).lstrip("/")) == tree_digest(sample_tree)
        drkit("--config", cfg, "--repo", name, "check", "--read-data").check()
    assert ids["nas"] == ids["cloud"]  # one identity in both repositories
    assert ids["nas"][0][2] == ["policy:app"]

    again = json.loads(drkit("--config", cfg, "backup", "--policy", "app", "--json").check().stdout)
    assert again["summary"]["bytes_read"] == 0  # both caches vouch for every file
    assert all(r["summary"]["data_blobs_added"] == 0 for r in again["repositories"])
    status = json.loads(drkit("--config", cfg, "status", "--json").check().stdout)
    assert status["app"][0]["ok"] is True


def test_unknown_policy_is_a_usage_error(drkit: Runner, sample_tree: Path, tmp_path: Path) -> None:
    cfg = str(policy_settings(tmp_path, sample_tree))
    result = drkit("--config", cfg, "backup", "--policy", "nope")
    assert result.returncode == 2 and "app" in result.stderr


def test_forget_policy_applies_each_repositorys_retention(
    drkit: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    cfg_path = policy_settings(tmp_path, sample_tree)
    cfg_path.write_text(
        cfg_path.read_text() + "    retention: {last: 1}\n"
        "    repository_retention:\n      cloud: {last: 2}\n"
    )
    cfg = str(cfg_path)
    for name in ("nas", "cloud"):
        drkit("--config", cfg, "--repo", name, "init").check()
    for i in range(3):
        (sample_tree / "docs" / "note0.txt").write_text(f"version {i}\n")
        drkit("--config", cfg, "backup", "--policy", "app").check()

    dry = json.loads(
        drkit("--config", cfg, "forget", "--policy", "app", "--dry-run", "--json").check().stdout
    )
    assert (len(dry["nas"]["would_remove"]), len(dry["cloud"]["would_remove"])) == (2, 1)
    counts = {
        n: len(json.loads(drkit("--config", cfg, "--repo", n, "snapshots", "--json").stdout))
        for n in ("nas", "cloud")
    }
    assert counts == {"nas": 3, "cloud": 3}  # the dry run changed nothing

    done = json.loads(drkit("--config", cfg, "forget", "--policy", "app", "--json").check().stdout)
    assert (len(done["nas"]["removed"]), len(done["cloud"]["removed"])) == (2, 1)
    counts = {
        n: len(json.loads(drkit("--config", cfg, "--repo", n, "snapshots", "--json").stdout))
        for n in ("nas", "cloud")
    }
    assert counts == {"nas": 1, "cloud": 2}  # keep more off-site
