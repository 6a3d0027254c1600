"""`drkit serve` serves the REST API and the dashboard beside /metrics and /healthz."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx

from tests.integration.daemon.conftest import DaemonHome, free_port, stop, wait_for


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_api_metrics_and_dashboard_share_the_listen_address(home: DaemonHome) -> None:
    add = home.drkit("user", "token", "add", "ops", "--json")
    assert add.returncode == 50  # no such user yet: refused, nothing made
    subprocess.run(
        [sys.executable, "-m", "drkit", "user", "add", "ops", "-g", "viewer", "--password-stdin"],
        env=home.env,
        input="a long enough password\n",
        text=True,
        check=True,
        capture_output=True,
    )
    token = json.loads(home.drkit("user", "token", "add", "ops", "--json").check().stdout)["token"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = home.serve("--listen", f"127.0.0.1:{port}")
    try:
        wait_for(lambda: _up(url), what="drkit serve's HTTP face")
        auth = {"Authorization": f"Bearer {token}"}
        status = httpx.get(f"{url}/api/status", headers=auth, timeout=30)
        assert status.status_code == 200 and "app" in status.json()
        assert httpx.get(f"{url}/api/status", timeout=30).status_code == 401
        assert "drkit_rpo_objective_seconds" in httpx.get(f"{url}/metrics", timeout=30).text
        assert httpx.get(f"{url}/api/openapi.json", timeout=30).json()["info"]["title"] == "drkit"
        assert httpx.get(f"{url}/login", timeout=30).status_code == 200
    finally:
        code, stderr = stop(proc)
    assert code == 0, stderr
    assert "Traceback" not in stderr
