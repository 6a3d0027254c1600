"""`drkit status`: 3-2-1 per policy source, from real repositories named in drkit.yaml."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Runner, policy_settings


def test_status_follows_the_copies(drkit: Runner, sample_tree: Path, tmp_path: Path) -> None:
    cfg = str(policy_settings(tmp_path, sample_tree))
    for name in ("nas", "cloud"):  # each with its own passphrase file from drkit.yaml
        drkit("--config", cfg, "--repo", name, "init").check()
    assert (
        drkit("--repo", str(tmp_path / "nas"), "snapshots").returncode == 12
    )  # not DRKIT_PASSWORD
    drkit("--config", cfg, "--repo", "nas", "backup", str(sample_tree)).check()

    first = json.loads(drkit("--config", cfg, "status", "--json").check().stdout)["app"][0]
    assert first["source"] == str(sample_tree)
    assert (first["ok"], first["copies"]) == (False, 2)
    failing = {r["rule"] for r in first["rules"] if not r["ok"]}
    assert failing == {"3 copies", "2 media", "1 off-site", "RPO"}
    cloud = next(r for r in first["repositories"] if r["name"] == "cloud")
    assert cloud["counts"] is False and cloud["why"] == "no snapshot of this source"

    drkit("--config", cfg, "--repo", "cloud", "backup", str(sample_tree)).check()
    second = json.loads(drkit("--config", cfg, "status", "--json").check().stdout)["app"][0]
    assert (second["ok"], second["copies"], second["offsite"]) == (True, 3, ["cloud"])
    text = drkit("--config", cfg, "status").check().stdout
    assert "OK" in text and "cloud" in text


def test_status_without_policies_says_how(drkit: Runner, tmp_path: Path) -> None:
    cfg = tmp_path / "drkit.yaml"
    cfg.write_text("version: 1\n")
    result = drkit("--config", str(cfg), "status")
    assert result.returncode == 2 and "policies" in result.stderr
