"""Running the drkit CLI for the runbook integration tests: in the foreground, or as a
background process the test can watch, kill or talk to."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drkit.catalog import Catalog

WAIT_S = 60.0


@dataclass
class Drkit:
    home: Path
    env: dict[str, str]
    _catalog: Catalog | None = None

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "drkit", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str) -> str:
        done = self(*args)
        assert done.returncode == 0, f"drkit {' '.join(args)}: {done.returncode}\n{done.stderr}"
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def background(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "drkit", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def token_of(self, user: str) -> str:
        """A drkit token of ``user`` (added as an operator, who may approve, if new)."""
        from drkit.catalog.types import utcnow
        from drkit.users import Role
        from drkit.users.store import add_user
        from drkit.users.tables import UserRow
        from drkit.users.tokens import issue_token

        with self.catalog().session() as s:
            if s.get(UserRow, user) is None:
                add_user(s, user, "$argon2id$not-used", [Role.OPERATOR])
            return issue_token(s, user, "tests", None, None, utcnow()).secret

    def approve(self, run_id: int, step: str, user: str, *more: str) -> str:
        """`drkit runbook approve` signed in as ``user`` (through DRKIT_TOKEN)."""
        env = {**self.env, "DRKIT_TOKEN": self.token_of(user)}
        done = subprocess.run(
            [sys.executable, "-m", "drkit", "runbook", "approve", str(run_id), step, *more],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"approve as {user}: {done.returncode}\n{done.stderr}"
        return done.stderr

    def save(self, path: Path, text: str) -> None:
        path.write_text(text)
        self.ok("runbook", "save", str(path))

    def run_view(self, run_id: int) -> dict[str, Any]:
        """The run's journal as `drkit runs show --json` gives it, read in-process (faster)."""
        from drkit.catalog.runs import get_run
        from drkit.cli.runs import run_json

        view = run_json(get_run(self.catalog(), run_id))
        found: dict[str, Any] = json.loads(json.dumps(view, default=str))
        return found

    def latest_run(self) -> int | None:
        from drkit.catalog.runs import list_runs

        if not (self.home / "catalog.db").exists():
            return None
        runs = list_runs(self.catalog(), limit=1)
        return runs[0].id if runs else None

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog.open(f"sqlite:///{self.home / 'catalog.db'}")
        return self._catalog

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def kill_pid_file(path: Path) -> None:
    """Stop a process whose pid a test step wrote (a child the killed runner left behind)."""
    if path.exists():
        try:
            os.kill(int(path.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


@pytest.fixture
def drkit_cli(tmp_path: Path) -> Iterator[Drkit]:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRKIT_")}
    env.update(DRKIT_HOME=str(home), DRKIT_AUTHOR="tester", COLUMNS="200")
    found = Drkit(home, env)
    yield found
    found.close()
