"""`drkit copy`: between repositories with different keys; identity and time kept."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Runner, tree_digest


def test_copy_keeps_identity_and_restores(
    initialized: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    initialized("backup", str(sample_tree), "--tag", "first").check()
    (sample_tree / "docs" / "note0.txt").write_text("changed\n")
    initialized("backup", str(sample_tree)).check()
    other = tmp_path / "offsite"
    other_pw = tmp_path / "offsite.pw"
    other_pw.write_text("a different passphrase")
    initialized("init", repo=other, env={"DRKIT_PASSWORD": "a different passphrase"}).check()

    result = json.loads(
        initialized("copy", "--to", str(other), "--to-password-file", str(other_pw), "--json")
        .check()
        .stdout
    )
    assert len(result["copied"]) == 2 and result["blobs_added"] > 0
    src = json.loads(initialized("snapshots", "--json").check().stdout)
    dst_env = {"DRKIT_PASSWORD": "a different passphrase"}
    dst = json.loads(initialized("snapshots", "--json", repo=other, env=dst_env).check().stdout)
    assert [(s["id"], s["time"], s["tags"]) for s in src] == [
        (s["id"], s["time"], s["tags"]) for s in dst
    ]
    assert [s["tree"] for s in src] != [s["tree"] for s in dst]  # keyed ids differ per repo

    out = tmp_path / "out"
    initialized("restore", "latest", "--target", str(out), repo=other, env=dst_env).check()
    assert tree_digest(out / str(sample_tree).lstrip("/")) == tree_digest(sample_tree)
    initialized("check", "--read-data", repo=other, env=dst_env).check()

    again = json.loads(
        initialized("copy", "--to", str(other), "--to-password-file", str(other_pw), "--json")
        .check()
        .stdout
    )
    assert again["copied"] == [] and again["skipped"] == 2 and again["blobs_read"] == 0


def test_copy_one_snapshot_by_id(initialized: Runner, sample_tree: Path, tmp_path: Path) -> None:
    first = json.loads(initialized("backup", str(sample_tree), "--json").check().stdout)
    initialized("backup", str(sample_tree)).check()
    other = tmp_path / "second"
    initialized("init", repo=other).check()  # same passphrase, its own master key
    result = json.loads(
        initialized("copy", first["short_id"], "--to", str(other), "--json").check().stdout
    )
    assert result["copied"] == [first["snapshot"]]
    dst = json.loads(initialized("snapshots", "--json", repo=other).check().stdout)
    assert [s["id"] for s in dst] == [first["snapshot"]]
