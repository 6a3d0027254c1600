"""A drkit home with one policy over a local repository, and helpers to run `drkit serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from tests.conftest import Result
from tests.fixtures.net import free_port as free_port  # re-exported for the daemon tests

DEFAULT_POLICY = """\
  app:
    sources: [{source}]
    repositories: [local]
    schedule: "0 2 * * *"
    rpo: 1d
    rto: 1h
"""


@dataclass
class DaemonHome:
    root: Path
    env: dict[str, str]

    @property
    def config(self) -> Path:
        return self.root / "drkit.yaml"

    @property
    def source(self) -> Path:
        return self.root / "src"

    def write_settings(self, *, policy: str = DEFAULT_POLICY, extra: str = "") -> None:
        self.config.write_text(
            "repositories:\n"
            f"  local:\n    url: {self.root / 'repo'}\n    password_file: {self.root / 'pw'}\n"
            f"policies:\n{policy.format(source=self.source)}"
            f"daemon:\n  listen: ''\n{extra}"
        )

    def drkit(self, *args: str, timeout: float = 300) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "drkit", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(list(args), proc.returncode, proc.stdout, proc.stderr)

    def catalog(self) -> Catalog:
        return Catalog.open(f"sqlite:///{self.root / 'catalog.db'}")

    def serve(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "drkit", "serve", *args],
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def home(tmp_path: Path) -> Iterator[DaemonHome]:
    root = tmp_path / "home"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.txt").write_text("alpha\n")
    (root / "pw").write_text("daemon test passphrase\n")
    env = dict(os.environ)
    env.update(
        DRKIT_HOME=str(root),
        DRKIT_CONFIG=str(root / "drkit.yaml"),
        DRKIT_CACHE_DIR=str(tmp_path / "cache"),
        DRKIT_KDF_MEMORY_KIB="8192",
        COLUMNS="200",
    )
    for name in ("DRKIT_REPO", "DRKIT_PASSWORD", "DRKIT_PASSWORD_FILE", "DRKIT_PAUSE_AT"):
        env.pop(name, None)
    daemon_home = DaemonHome(root, env)
    daemon_home.write_settings()
    daemon_home.drkit("--repo", "local", "init").check()
    yield daemon_home


def wait_for(predicate: Callable[[], bool], timeout: float = 120, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def stop(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=timeout)
    return proc.returncode, stderr
