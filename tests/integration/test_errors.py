"""Faults a user meets: each is a clear error with a hint, and nothing is damaged."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.repository.locks import RepoLock
from drkit.repository.repo import Repository
from drkit.storage.local import LocalBackend
from tests.conftest import Runner, make_sample_tree, mounted_tmpfs, tree_digest


def test_wrong_passphrase(initialized: Runner) -> None:
    result = initialized("snapshots", env={"DRKIT_PASSWORD": "not it"})
    assert result.returncode == 12
    assert "passphrase" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_repository(drkit: Runner, tmp_path: Path) -> None:
    result = drkit("snapshots", repo=tmp_path / "nowhere")
    assert result.returncode == 10
    assert "drkit init" in result.stderr


def test_no_repository_named(drkit_env: dict[str, str]) -> None:
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "drkit", "snapshots"],
        env=drkit_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "DRKIT_REPO" in proc.stderr


def test_missing_passphrase_without_terminal(
    initialized: Runner, drkit_env: dict[str, str], repo_dir: Path
) -> None:
    import sys

    env = {k: v for k, v in drkit_env.items() if k != "DRKIT_PASSWORD"}
    proc = subprocess.run(
        [sys.executable, "-m", "drkit", "--repo", str(repo_dir), "snapshots"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert "--password-file" in proc.stderr


def test_password_file_option(
    initialized: Runner, drkit_env: dict[str, str], repo_dir: Path, tmp_path: Path
) -> None:
    import sys

    pw = tmp_path / "pw"
    pw.write_text("correct horse battery staple\n")
    env = {k: v for k, v in drkit_env.items() if k != "DRKIT_PASSWORD"}
    argv = [
        sys.executable,
        "-m",
        "drkit",
        "--repo",
        str(repo_dir),
        "--password-file",
        str(pw),
        "snapshots",
        "--json",
    ]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_locked_repository_refuses_then_waits(
    initialized: Runner, repo_dir: Path, sample_tree: Path
) -> None:
    repo = Repository.open(LocalBackend(repo_dir), "correct horse battery staple")
    with RepoLock(repo, exclusive=True, operation="prune"):
        result = initialized("backup", str(sample_tree))
        assert result.returncode == 11
        assert "locked" in result.stderr and "prune" in result.stderr
        assert "drkit unlock" in result.stderr
    initialized("backup", str(sample_tree)).check()


def test_invalid_settings_file_names_file_and_line(initialized: Runner, tmp_path: Path) -> None:
    cfg = tmp_path / "drkit.yaml"
    cfg.write_text("version: 1\nbackup:\n  compression: fast\n")
    result = initialized("--config", str(cfg), "snapshots")
    assert result.returncode == 2
    assert f"{cfg}:3" in result.stderr and "compression" in result.stderr


def test_restore_refuses_non_empty_target(
    initialized: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    initialized("backup", str(sample_tree)).check()
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    result = initialized("restore", "latest", "--target", str(target))
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert (target / "keep.txt").read_text() == "mine"


def test_unknown_snapshot(initialized: Runner) -> None:
    result = initialized("ls", "deadbeef")
    assert result.returncode == 14
    result = initialized("ls", "latest")
    assert result.returncode == 14 and "no snapshot" in result.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 12 MiB tmpfs: writing past it fails with ENOSPC like a full disk."""
    with mounted_tmpfs(tmp_path / "small", "12m") as mnt:
        yield mnt


def test_full_disk_is_clear_and_harmless(drkit: Runner, small_disk: Path, tmp_path: Path) -> None:
    repo = small_disk / "repo"
    drkit("init", repo=repo).check()
    first = make_sample_tree(tmp_path / "first", files=5)
    drkit("backup", str(first), repo=repo).check()
    big = tmp_path / "big"
    big.mkdir()
    (big / "noise.bin").write_bytes(os.urandom(40 * 1024 * 1024))
    result = drkit("backup", str(big), repo=repo)
    assert result.returncode == 16, result.stderr
    assert "full" in result.stderr and "hint:" in result.stderr
    assert not list(repo.rglob(".tmp-*")), "a partial object was left behind"
    snaps = json.loads(drkit("snapshots", "--json", repo=repo).check().stdout)
    assert len(snaps) == 1  # the failed backup recorded no snapshot
    out = tmp_path / "out"
    drkit("restore", "latest", "--target", str(out), repo=repo).check()
    assert tree_digest(out / str(first).lstrip("/")) == tree_digest(first)
    subprocess.run(["mount", "-o", "remount,size=128m", str(small_disk)], check=True)
    drkit("backup", str(big), repo=repo).check()
    drkit("check", "--read-data", repo=repo).check()
