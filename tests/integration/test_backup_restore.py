"""Backup and restore through the CLI: content and metadata come back exactly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import Result, Runner, make_sample_tree, tree_digest


def _restored_root(restored: Path, source: Path) -> Path:
    return restored / str(source).lstrip("/")


def test_round_trip_content_links_and_modes(
    initialized: Runner, sample_tree: Path, restored: Path
) -> None:
    os.chmod(sample_tree / "docs" / "note1.txt", 0o640)
    os.chmod(sample_tree / "docs" / "deep", 0o700)
    initialized("backup", str(sample_tree)).check()
    initialized("restore", "latest", "--target", str(restored)).check()
    root = _restored_root(restored, sample_tree)
    assert tree_digest(root) == tree_digest(sample_tree)
    assert (root / "link").is_symlink() and os.readlink(root / "link") == "docs/deep/leaf.txt"
    linked = root / "hardlink.txt"
    assert linked.stat().st_ino == (root / "docs" / "deep" / "leaf.txt").stat().st_ino
    assert (root / "data" / "empty").stat().st_size == 0


def test_times_owners_and_xattrs(initialized: Runner, sample_tree: Path, restored: Path) -> None:
    target = sample_tree / "docs" / "note2.txt"
    os.utime(target, ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    os.utime(sample_tree / "docs", ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    xattr_ok = _try_setxattr(target)
    if os.geteuid() == 0:
        os.chown(target, 1234, 5678)
    initialized("backup", str(sample_tree)).check()
    initialized("restore", "latest", "--target", str(restored)).check()
    back = _restored_root(restored, sample_tree) / "docs" / "note2.txt"
    assert back.stat().st_mtime_ns == 1_600_000_000_123_456_789
    assert back.parent.stat().st_mtime_ns == 1_500_000_000_000_000_000
    if os.geteuid() == 0:
        assert (back.stat().st_uid, back.stat().st_gid) == (1234, 5678)
    if xattr_ok:
        assert os.getxattr(back, "user.drkit") == b"value"


def _try_setxattr(path: Path) -> bool:
    try:
        os.setxattr(path, "user.drkit", b"value")
    except OSError:
        return False  # the filesystem under tmp has no user xattrs
    return True


def test_sparse_file_stays_sparse(initialized: Runner, tmp_path: Path, restored: Path) -> None:
    src = tmp_path / "sparse-src"
    src.mkdir()
    sparse = src / "disk.img"
    with open(sparse, "wb") as fh:
        fh.truncate(64 * 1024 * 1024)
        fh.seek(10 * 1024 * 1024)
        fh.write(b"data in the middle")
    initialized("backup", str(src)).check()
    initialized("restore", "latest", "--target", str(restored)).check()
    back = _restored_root(restored, src) / "disk.img"
    assert back.read_bytes() == sparse.read_bytes()
    assert back.stat().st_blocks * 512 < 1024 * 1024  # a few blocks, not 64 MiB


def test_unchanged_rebackup_reads_nothing(initialized: Runner, sample_tree: Path) -> None:
    first = json.loads(initialized("backup", str(sample_tree), "--json").check().stdout)
    second = json.loads(initialized("backup", str(sample_tree), "--json").check().stdout)
    assert first["summary"]["bytes_read"] > 0
    assert second["summary"]["bytes_read"] == 0
    assert second["summary"]["files_unmodified"] == first["summary"]["files_new"]
    assert second["summary"]["data_blobs_added"] == 0
    (sample_tree / "docs" / "note3.txt").write_text("changed\n")
    third = json.loads(initialized("backup", str(sample_tree), "--json").check().stdout)
    assert third["summary"]["files_changed"] == 1
    assert third["summary"]["bytes_read"] == len("changed\n")


def test_unreadable_file_is_reported_and_backup_goes_on(drkit_env: dict[str, str]) -> None:
    """Run as an unprivileged user (root reads everything) so a 0000 file is truly unreadable."""
    base = Path(tempfile.mkdtemp(prefix="drkit-unreadable-"))
    try:
        base.chmod(0o777)
        src = make_sample_tree(base / "src", files=5)
        bad = src / "docs" / "secret.txt"
        bad.write_text("hidden")
        bad.chmod(0)
        env = {
            **drkit_env,
            "DRKIT_CACHE_DIR": str(base / "cache"),
            "HOME": str(base),
            "DRKIT_HOME": str(base / "home"),
        }
        repo = base / "repo"
        _unprivileged(["--repo", str(repo), "init"], env).check()
        result = _unprivileged(["--repo", str(repo), "backup", str(src), "--json"], env)
        assert result.returncode == 3, result.stderr
        doc = json.loads(result.stdout)
        assert [e["path"] for e in doc["errors"]] == [str(bad)]
        assert "could not be read" in result.stderr
        listing = _unprivileged(
            ["--repo", str(repo), "ls", "latest", str(src / "docs"), "--json"], env
        ).check()
        names = {Path(e["path"]).name: e for e in json.loads(listing.stdout)}
        assert names["secret.txt"]["error"]  # recorded in the snapshot
        assert "note1.txt" in names
        out = base / "out"
        restored = _unprivileged(
            ["--repo", str(repo), "restore", "latest", "--target", str(out)], env
        )
        assert restored.returncode == 3  # the unreadable file cannot come back
        assert (out / str(src).lstrip("/") / "docs" / "note1.txt").read_text() == (
            src / "docs" / "note1.txt"
        ).read_text()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _unprivileged(args: list[str], env: dict[str, str]) -> Result:
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    argv = [*(prefix if os.geteuid() == 0 else []), sys.executable, "-m", "drkit", *args]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=120)
    return Result(args, proc.returncode, proc.stdout, proc.stderr)


def test_restore_holds_no_descriptor_per_file(
    initialized: Runner, tmp_path: Path, drkit_env: dict[str, str], repo_dir: Path
) -> None:
    """Many files restore under a small open-file limit (this once failed with EMFILE)."""
    import resource

    src = tmp_path / "many"
    src.mkdir()
    for i in range(300):
        (src / f"f{i:03}.txt").write_text(f"file {i}\n" * (i % 7 + 1))
    big = src / "multi-chunk.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    initialized("backup", str(src)).check()

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    target = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "drkit",
            "--repo",
            str(repo_dir),
            "restore",
            "latest",
            "--target",
            str(target),
        ],
        env=drkit_env,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=low_limit,
    )
    assert proc.returncode == 0, proc.stderr
    assert tree_digest(target / str(src).lstrip("/")) == tree_digest(src)
