"""Every metric the monitoring kit's rules and dashboard name is exported by `drkit serve`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.integration.daemon.conftest import free_port, wait_for
from tests.unit.packaging.test_monitoring_kit import kit_metric_names


def _samples(metrics: str) -> set[str]:
    """Metric names that have at least one sample (HELP and TYPE lines start with #)."""
    return set(re.findall(r"^([a-z_:][a-z0-9_:]*)[{ ]", metrics, re.M))


def test_every_metric_of_the_rules_and_dashboard_has_samples_in_serve(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "DRKIT_HOME": str(home), "DRKIT_KDF_MEMORY_KIB": "8192"}
    for name in ("DRKIT_CONFIG", "DRKIT_REPO", "DRKIT_PASSWORD", "DRKIT_PASSWORD_FILE"):
        env.pop(name, None)
    # quickstart: a backup, a read-data check and a restore test recorded as job runs
    subprocess.run(
        [sys.executable, "-m", "drkit", "quickstart"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    port = free_port()
    config = str(home / "drkit.yaml")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drkit",
            "--config",
            config,
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    found: dict[str, str] = {}

    def scrape() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                found["text"] = r.read().decode()
        except OSError:
            return False
        return True

    try:
        wait_for(scrape, what="/metrics")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    exported = _samples(found["text"])
    named = kit_metric_names()
    assert named - exported == set(), f"the kit names metrics serve does not export: {named}"
    assert "drkit_no_such_metric" not in exported  # the comparison can fail
