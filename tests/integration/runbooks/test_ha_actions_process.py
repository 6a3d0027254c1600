"""process.start / process.stop with real processes: pid files, health URLs, stubborn ones."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from drkit.runbooks.actions.ha_process import alive
from drkit.runbooks.errors import ActionFailed
from tests.fixtures.ha import APP_SERVER, free_port
from tests.fixtures.ha_context import FakeContext, run_action

_started: list[Path] = []


@pytest.fixture(autouse=True)
def _stop_leftovers() -> Iterator[None]:
    """Whatever a failing test left running is stopped by its pid file."""
    yield
    while _started:
        run_action("process.stop", pidfile=str(_started.pop()), timeout_s=2)


def start(pidfile: Path, argv: list[str], **extra: object) -> dict[str, str]:
    _started.append(pidfile)
    return dict(run_action("process.start", argv=argv, pidfile=str(pidfile), **extra).outputs)


def http_server(port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]


def test_start_waits_for_health_and_stop_ends_it(tmp_path: Path) -> None:
    port, pidfile = free_port("127.0.0.1"), tmp_path / "run" / "web.pid"
    out = start(
        pidfile,
        http_server(port),
        name="web",
        health_url=f"http://127.0.0.1:{port}/",
        health_body="Directory listing",
        cwd=str(tmp_path),
    )
    pid = int(out["pid"])
    assert out["started"] == "true"
    assert pidfile.read_text() == f"{pid}\n"
    assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    assert (tmp_path / "run" / "web.pid.log").exists()

    stopped = run_action("process.stop", pidfile=str(pidfile), name="web")
    assert stopped.outputs == {"pid": str(pid), "was_running": "true", "killed": "false"}
    assert not alive(pid)
    assert not pidfile.exists()
    again = run_action("process.stop", pidfile=str(pidfile))
    assert again.outputs["was_running"] == "false"


def test_start_does_not_start_a_running_process_twice(tmp_path: Path) -> None:
    port, pidfile = free_port("127.0.0.1"), tmp_path / "web.pid"
    url = f"http://127.0.0.1:{port}/"
    first = start(pidfile, http_server(port), health_url=url)
    second = start(pidfile, http_server(port), health_url=url)
    assert second == {**first, "started": "false"}


def test_the_app_server_reports_its_database(tmp_path: Path) -> None:
    """The fixture app against the machine's PostgreSQL: healthy means it can write."""
    port, pidfile = free_port("127.0.0.1"), tmp_path / "app.pid"
    argv = [
        sys.executable,
        str(APP_SERVER),
        "--name",
        "app-1",
        "--port",
        str(port),
        "--db-host",
        "127.0.0.1",
        "--db-port",
        "5432",
    ]
    out = start(
        pidfile,
        argv,
        health_url=f"http://127.0.0.1:{port}/health",
        health_body='"db_writable": true',
    )
    assert json.loads(out["health"]) == {
        "name": "app-1",
        "db_host": "127.0.0.1",
        "db_writable": True,
    }


def test_a_process_that_exits_fails_the_step_with_its_log(tmp_path: Path) -> None:
    pidfile = tmp_path / "crash.pid"
    argv = [sys.executable, "-c", "print('cannot bind: address in use'); raise SystemExit(3)"]
    with pytest.raises(ActionFailed, match="exited with code 3") as caught:
        start(pidfile, argv, name="crash", health_url="http://127.0.0.1:1/health")
    assert "cannot bind: address in use" in caught.value.message
    assert not pidfile.exists()


def test_a_process_never_healthy_is_stopped_again(tmp_path: Path) -> None:
    port, pidfile = free_port("127.0.0.1"), tmp_path / "web.pid"
    wrong_port = free_port("127.0.0.1")
    with pytest.raises(ActionFailed, match="not healthy within 1 s") as caught:
        start(
            pidfile,
            http_server(port),
            health_url=f"http://127.0.0.1:{wrong_port}/",
            start_timeout_s=1,
        )
    assert "ConnectError" in caught.value.message
    assert not pidfile.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


def test_a_cancelled_start_stops_what_it_started(tmp_path: Path) -> None:
    port, pidfile = free_port("127.0.0.1"), tmp_path / "web.pid"
    ctx = FakeContext()
    ctx.cancel.set()
    with pytest.raises(ActionFailed, match="cancelled"):
        run_action(
            "process.start",
            ctx,
            argv=http_server(port),
            pidfile=str(pidfile),
            health_url=f"http://127.0.0.1:{port}/",
        )
    assert not pidfile.exists()


def test_a_missing_program_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ActionFailed, match="cannot start nope") as caught:
        run_action(
            "process.start",
            name="nope",
            argv=[str(tmp_path / "no-such-program")],
            pidfile=str(tmp_path / "x.pid"),
        )
    assert "argv" in caught.value.hint


def wait_for_line(log: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not (log.exists() and text in log.read_text()):
        assert time.monotonic() < deadline, f"{log} never said {text!r}"
        time.sleep(0.02)


STUBBORN = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(600)\n"
)


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    pidfile = tmp_path / "stubborn.pid"
    pid = int(start(pidfile, [sys.executable, "-c", STUBBORN])["pid"])
    wait_for_line(pidfile.with_name("stubborn.pid.log"), "ready")  # its handler is installed
    with pytest.raises(ActionFailed, match=re.escape("still runs 0.3 s after SIGTERM")):
        run_action("process.stop", pidfile=str(pidfile), timeout_s=0.3, kill_after=False)
    assert alive(pid)
    out = run_action("process.stop", pidfile=str(pidfile), timeout_s=0.3)
    assert out.outputs["killed"] == "true"
    assert not alive(pid)


def test_stop_never_signals_a_process_that_reused_the_pid(tmp_path: Path) -> None:
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pidfile = tmp_path / "old.pid"
        pidfile.write_text(f"{stranger.pid}\n")
        hour_ago = time.time() - 3600
        os.utime(pidfile, (hour_ago, hour_ago))  # written long before the stranger started
        out = run_action("process.stop", pidfile=str(pidfile))
        assert out.outputs["was_running"] == "false"
        assert stranger.poll() is None
        assert not pidfile.exists()  # the stale pid file is cleaned up
    finally:
        stranger.kill()
        stranger.wait()
