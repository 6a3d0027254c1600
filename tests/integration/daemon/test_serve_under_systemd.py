"""A real `drkit serve` as systemd runs it: sd_notify readiness and stop, JSON or human logs."""

from __future__ import annotations

import json
import socket
import urllib.request
from datetime import timedelta
from pathlib import Path

from drkit.catalog.runs import RunStatus, list_runs
from drkit.catalog.types import utcnow
from drkit.scheduler.state import save_slot
from tests.integration.daemon.conftest import DaemonHome, free_port, stop, wait_for


def _healthz(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
        return int(r.status)


def test_serve_sends_ready_when_serving_and_stopping_on_sigterm(
    home: DaemonHome, tmp_path: Path
) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(120)
        port = free_port()
        proc = home.serve("--listen", f"127.0.0.1:{port}", env={"NOTIFY_SOCKET": path})
        try:
            ready = sock.recv(4096).decode().split("\n")
            assert ready[0] == "READY=1" and ready[1].startswith("STATUS=serving")
            assert _healthz(port) == 200  # READY means /healthz already answers
        finally:
            code, stderr = stop(proc)
        assert sock.recv(4096).decode().startswith("STOPPING=1\n")
    assert code == 0, stderr
    # human lines by default: time, level, logger
    banner = next(line for line in stderr.splitlines() if "drkit serve: catalog" in line)
    assert " INFO drkit.serve: drkit serve: catalog " in banner
    assert not banner.startswith("{")


def test_serve_log_format_json_is_one_object_per_line_with_run_and_job(home: DaemonHome) -> None:
    save_slot(home.catalog(), "backup:app", utcnow() - timedelta(days=1))  # a catch-up at start
    proc = home.serve("--log-format", "json")
    try:
        wait_for(
            lambda: any(r.status is not RunStatus.RUNNING for r in list_runs(home.catalog())),
            what="the catch-up backup",
        )
        (run,) = list_runs(home.catalog(), kind="backup")
    finally:
        code, stderr = stop(proc)
    assert code == 0, stderr
    docs = [json.loads(line) for line in stderr.splitlines()]  # every line is JSON
    assert all(list(d)[:6] == ["time", "level", "logger", "message", "run_id", "job"] for d in docs)
    finished = [d for d in docs if d["run_id"] is not None]
    assert finished == [{**finished[0], "job": "backup:app", "run_id": run.id, "level": "info"}], (
        docs
    )
    assert f"run {run.id} succeeded" in finished[0]["message"]
    assert any(d["job"] == "backup:app" and "starting" in d["message"] for d in docs)
    assert any(d["message"] == "received SIGTERM: stopping" for d in docs)


def test_a_fatal_error_under_json_logging_is_a_json_line(home: DaemonHome) -> None:
    home.config.write_text(home.config.read_text() + "  bogus_key: 1\n")
    result = home.drkit("serve", "--log-format", "json")
    assert result.returncode != 0
    (doc,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert doc["level"] == "error" and doc["code"] and "bogus_key" in doc["message"]
