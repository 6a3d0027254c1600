"""A run started through the API of a real `drkit serve` never stays `running`:
SIGTERM marks it interrupted before the daemon exits, SIGKILL at the next start."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from drkit.catalog.runs import RunStatus, get_run
from drkit.repository.locks import RepoLock
from drkit.services.workspace import Workspace
from tests.fixtures.net import free_port
from tests.integration.api.conftest import add_callers, make_home
from tests.integration.daemon.conftest import wait_for


def _serve(env: dict[str, str], root: Path, port: int) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "drkit", "--config", str(root / "drkit.yaml"), "serve"]
    argv += ["--listen", f"127.0.0.1:{port}"]
    return subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_daemon_leaves_no_run_running(tmp_path: Path, sig: signal.Signals) -> None:
    root = tmp_path / "home"
    env = make_home(root)
    subprocess.run([sys.executable, "-m", "drkit", "--repo", "local", "init"], env=env, check=True)
    ws = Workspace(config=root / "drkit.yaml")
    tokens = add_callers(ws.catalog())
    port = free_port()
    proc = _serve(env, root, port)
    holder = ws.child()
    lock = RepoLock(holder.open_named("local"), exclusive=True, operation="prune")
    lock.acquire()  # the backup waits for it: surely running when the signal comes
    try:
        wait_for(lambda: _up(port), what="drkit serve")
        auth = {"Authorization": f"Bearer {tokens['operator']}"}
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/policies/app/backup",
            json={"wait_lock": 600},
            headers=auth,
            timeout=30,
        )
        assert r.status_code == 202, r.text
        run_id = r.json()["run"]
        assert get_run(ws.catalog(), run_id).status is RunStatus.RUNNING
        proc.send_signal(sig)
        proc.communicate(timeout=120)
        if sig == signal.SIGKILL:  # nothing ran at the end: the next start closes the run
            assert get_run(ws.catalog(), run_id).status is RunStatus.RUNNING
            again = subprocess.run(
                [sys.executable, "-m", "drkit", "serve", "--once"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert again.returncode == 0, again.stderr
        run = get_run(ws.catalog(), run_id)
        assert run.status is RunStatus.INTERRUPTED, run
        assert run.error and ("daemon stopped" in run.error or "ended without" in run.error)
        assert all(s.status != "running" for s in run.steps)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        lock.release()
        holder.close()
        ws.close()
