"""SIGINT and SIGTERM stop a command cleanly and say what was interrupted (exit 130 / 143)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Runner, make_data_tree


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_backup_says_so_and_releases_its_lock(
    initialized: Runner,
    drkit_env: dict[str, str],
    repo_dir: Path,
    tmp_path: Path,
    sig: signal.Signals,
    code: int,
) -> None:
    src = make_data_tree(tmp_path / "src", seed=2, mib=2)
    mark = tmp_path / "locked"
    env = {**drkit_env, "DRKIT_MARK_AT": f"lock-acquired:{mark}"}
    env["DRKIT_PAUSE_AT"] = "lock-acquired:120"
    proc = subprocess.Popen(
        [sys.executable, "-m", "drkit", "--repo", str(repo_dir), "backup", str(src)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120  # only a guard against a hang
    while not mark.exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert f"drkit backup was interrupted by {sig.name}" in err
    assert "hint:" in err and "Traceback" not in err
    assert not [p for p in (repo_dir / "locks").iterdir() if not p.name.startswith(".")]
    assert not list((repo_dir / "snapshots").iterdir())
    initialized("check").check()
