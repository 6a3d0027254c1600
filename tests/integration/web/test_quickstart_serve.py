"""`drkit quickstart --serve`: it prints the dashboard's URL and a generated admin password
that signs in there; a second run makes no new password."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.fixtures.net import free_port
from tests.integration.web.conftest import csrf_of

URL = re.compile(r"dashboard: (http://127\.0\.0\.1:\d+/)")
PASSWORD = re.compile(r"sign in as admin, password: (\S+)")


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "DRKIT_HOME": str(home), "DRKIT_KDF_MEMORY_KIB": "8192", "COLUMNS": "200"}
    for name in ("DRKIT_CONFIG", "DRKIT_REPO", "DRKIT_PASSWORD", "DRKIT_PASSWORD_FILE"):
        env.pop(name, None)
    return env


def _lines(proc: subprocess.Popen[str]) -> Iterator[str]:
    assert proc.stdout is not None
    yield from proc.stdout


def _serve_until_ready(home: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "drkit", "quickstart", "--serve", "--listen", f"127.0.0.1:{port}"],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in _lines(proc):
            seen.append(line)
            if "Ctrl-C stops" in "".join(seen) and ("password" in line or "passwd" in line):
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    ready.wait(timeout=300)
    return proc, seen


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _healthy(url: str) -> bool:
    for _ in range(300):
        try:
            if httpx.get(f"{url}healthz", timeout=5).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        threading.Event().wait(0.1)
    return False


def test_quickstart_serve_prints_the_dashboard_and_an_admin_password_that_signs_in(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    proc, seen = _serve_until_ready(home, free_port())
    try:
        text = "".join(seen)
        url, password = URL.search(text), PASSWORD.search(text)
        assert url and password, text
        assert _healthy(url.group(1)), text
        with httpx.Client(base_url=url.group(1), timeout=30) as c:
            form = c.get("/login")
            wrong = {"username": "admin", "password": "guess", "csrf": csrf_of(form)}
            assert c.post("/login", data=wrong).status_code == 401
            right = {**wrong, "password": password.group(1), "csrf": csrf_of(c.get("/login"))}
            assert c.post("/login", data=right).status_code == 303
            users = c.get("/users")  # the admin may manage users
            assert users.status_code == 200 and 'href="/users/admin"' in users.text
            assert "quickstart" in c.get("/").text  # the quickstart policy on the overview
    finally:
        _stop(proc)

    proc, seen = _serve_until_ready(home, free_port())  # again: the admin is kept
    try:
        text = "".join(seen)
        assert URL.search(text) and not PASSWORD.search(text), text
        assert "drkit user passwd admin" in text
    finally:
        _stop(proc)
