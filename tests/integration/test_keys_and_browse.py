"""Key slots, and looking into snapshots: snapshots, ls, diff, include, exclude, tags."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Runner, tree_digest


def test_key_add_passwd_remove(initialized: Runner, tmp_path: Path) -> None:
    new = tmp_path / "new-pw"
    new.write_text("second passphrase")
    initialized("key", "add", "--new-password-file", str(new)).check()
    slots = json.loads(initialized("key", "list", "--json").check().stdout)
    assert len(slots) == 2 and sum(s["current"] for s in slots) == 1
    second = {"DRKIT_PASSWORD": "second passphrase"}
    initialized("snapshots", env=second).check()
    current = next(s["id"] for s in slots if s["current"])
    refused = initialized("key", "remove", current[:12])
    assert refused.returncode == 2 and "in use" in refused.stderr
    initialized("key", "remove", current[:12], env=second).check()
    assert initialized("snapshots").returncode == 12  # the first passphrase is gone
    third = tmp_path / "third-pw"
    third.write_text("third passphrase")
    initialized("key", "passwd", "--new-password-file", str(third), env=second).check()
    assert initialized("snapshots", env=second).returncode == 12
    initialized("snapshots", env={"DRKIT_PASSWORD": "third passphrase"}).check()


def test_ls_diff_tags_and_latest(initialized: Runner, sample_tree: Path) -> None:
    initialized("backup", str(sample_tree), "--tag", "daily").check()
    (sample_tree / "docs" / "note0.txt").write_text("edited\n")
    (sample_tree / "docs" / "new.txt").write_text("new\n")
    (sample_tree / "data" / "empty").unlink()
    initialized("backup", str(sample_tree), "--tag", "manual").check()
    snaps = json.loads(initialized("snapshots", "--json").check().stdout)
    assert [s["tags"] for s in snaps] == [["daily"], ["manual"]]
    assert (
        json.loads(initialized("snapshots", "--tag", "daily", "--json").stdout)[0]["id"]
        == (snaps[0]["id"])
    )
    listing = initialized("ls", "latest", str(sample_tree / "docs")).check().stdout.split()
    assert f"{sample_tree}/docs/new.txt" in listing
    diff = json.loads(initialized("diff", snaps[0]["short_id"], "latest", "--json").stdout)
    changes = {(d["change"], Path(d["path"]).name) for d in diff}
    assert changes == {("M", "note0.txt"), ("+", "new.txt"), ("-", "empty")}


def test_exclude_and_partial_restore(
    initialized: Runner, sample_tree: Path, restored: Path
) -> None:
    initialized(
        "backup",
        str(sample_tree),
        "--exclude",
        "*.bin",
        "--exclude",
        str(sample_tree / "docs" / "deep"),
    ).check()
    listing = initialized("ls", "latest", str(sample_tree), "-R").check().stdout
    assert "random.bin" not in listing and "/deep" not in listing
    assert "note1.txt" in listing
    initialized(
        "restore", "latest", "--target", str(restored), "--include", str(sample_tree / "docs")
    ).check()
    root = restored / str(sample_tree).lstrip("/")
    assert sorted(p.name for p in root.iterdir()) == ["docs"]
    expected = {
        k: v for k, v in tree_digest(sample_tree / "docs").items() if not k.startswith("deep")
    }
    assert tree_digest(root / "docs") == expected
