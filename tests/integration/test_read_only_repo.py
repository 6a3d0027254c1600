"""A read-only repository (a mounted snapshot, an off-site copy with read-only access)
can be listed, checked and restored; writing to it fails clearly.

The repository belongs to root and drkit runs as nobody (setpriv), so the
storage refuses every write, as a read-only mount does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Result, Runner, make_sample_tree, tree_digest


def as_nobody(args: list[str], env: dict[str, str]) -> Result:
    assert os.geteuid() == 0, "this test runs drkit as nobody through setpriv: run it as root"
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    argv = [*prefix, sys.executable, "-m", "drkit", *args]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=300)
    return Result(args, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def base() -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="drkit-readonly-"))
    where.chmod(0o755)
    (where / "scratch").mkdir(mode=0o777)
    (where / "scratch").chmod(0o777)
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_read_only_repository_lists_checks_and_restores(
    drkit: Runner, drkit_env: dict[str, str], base: Path
) -> None:
    src = make_sample_tree(base / "src", files=5)
    repo = base / "repo"
    drkit("init", repo=repo).check()
    drkit("backup", str(src), repo=repo).check()
    scratch = base / "scratch"
    env = {**drkit_env, "DRKIT_CACHE_DIR": str(scratch / "cache"), "HOME": str(scratch)}
    env["DRKIT_HOME"] = str(scratch / "home")
    subprocess.run(["chmod", "-R", "a+rX", str(repo)], check=True)  # readable, not writable
    locks_before = sorted((repo / "locks").iterdir())

    as_nobody(["--repo", str(repo), "snapshots"], env).check()
    as_nobody(["--repo", str(repo), "ls", "latest", "-R"], env).check()
    checked = as_nobody(["--repo", str(repo), "check", "--read-data"], env).check()
    assert "read-only" in checked.stderr and "without a lock" in checked.stderr
    out = scratch / "out"
    restored = as_nobody(["--repo", str(repo), "restore", "latest", "--target", str(out)], env)
    restored.check()
    assert "without a lock" in restored.stderr
    assert tree_digest(out / str(src).lstrip("/")) == tree_digest(src)
    quiet = as_nobody(["--repo", str(repo), "check", "--no-lock"], env).check()
    assert "without a lock" not in quiet.stderr  # asked for: nothing to warn about

    refused = as_nobody(["--repo", str(repo), "backup", str(src)], env)
    assert refused.returncode == 15, refused.stderr
    assert "read-only" in refused.stderr
    assert sorted((repo / "locks").iterdir()) == locks_before  # nothing was written


def test_no_lock_writes_no_lock(initialized: Runner, repo_dir: Path, tmp_path: Path) -> None:
    src = make_sample_tree(tmp_path / "src", files=3)
    initialized("backup", str(src)).check()
    (repo_dir / "locks").chmod(0o555)  # root ignores modes; a lock written would show
    try:
        initialized("check", "--no-lock").check()
        initialized("restore", "latest", "--target", str(tmp_path / "o"), "--no-lock").check()
    finally:
        (repo_dir / "locks").chmod(0o755)
    assert not [p for p in (repo_dir / "locks").iterdir() if not p.name.startswith(".")]
