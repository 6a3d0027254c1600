"""The README's first command: `drkit quickstart` runs one cycle of the daemon's jobs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, list_runs
from drkit.catalog.tables import VerificationRow


def quickstart(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DRKIT_HOME": str(home), "DRKIT_KDF_MEMORY_KIB": "8192"}
    for name in ("DRKIT_CONFIG", "DRKIT_REPO", "DRKIT_PASSWORD", "DRKIT_PASSWORD_FILE"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "drkit", "quickstart", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_quickstart_backs_up_checks_and_restore_tests_into_the_catalog(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = quickstart(home)
    assert first.returncode == 0, first.stderr
    assert (home / "drkit.yaml").read_text().count("quickstart:") == 1
    catalog = Catalog.open(f"sqlite:///{home / 'catalog.db'}")
    runs = {r.kind: r for r in list_runs(catalog)}
    assert set(runs) == {"backup", "read-data", "restore-test"}
    assert all(r.status is RunStatus.SUCCEEDED for r in runs.values())
    with catalog.session() as session:
        kinds = {(v.kind, v.ok) for v in session.query(VerificationRow)}
    assert kinds == {("read-data", True), ("restore-test", True)}

    again = quickstart(home)  # the same home: the repository and settings are reused
    assert again.returncode == 0, again.stderr
    assert "using the repository" in again.stdout
    assert len(list_runs(catalog, kind="backup")) == 2
