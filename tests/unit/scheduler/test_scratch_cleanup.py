"""Stale restore-test scratch: removed when its process is gone, kept while it runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from drkit.verify.scratch import make_scratch, remove_scratch, remove_stale_scratch


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_scratch_of_a_dead_process_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    live = make_scratch(tmp_path, 0)  # owned by this (live) process
    dead = make_scratch(tmp_path, 0)
    (dead / "ro").mkdir()
    (dead / "ro" / "f").write_text("x")
    os.chmod(dead / "ro", 0o500)  # restored modes: rmtree needs them writable
    dead.with_name(dead.name + ".owner").write_text(f"{dead_pid()} {socket.gethostname()}\n")
    elsewhere = make_scratch(tmp_path, 0)
    elsewhere.with_name(elsewhere.name + ".owner").write_text(f"{dead_pid()} other-host\n")
    assert remove_stale_scratch(tmp_path) == [str(dead)]
    assert not dead.exists() and live.exists() and elsewhere.exists()
    assert not dead.with_name(dead.name + ".owner").exists()
    assert remove_scratch(live) == ""
    assert not live.with_name(live.name + ".owner").exists()
