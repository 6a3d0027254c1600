"""At 80 columns the list tables drop or wrap less important columns, never cut the
identifying ones (names, ids, timestamps, paths); wide, every column shows.

One home with a policy backed up into two repositories, drkit.yaml versioned, a
scheduled job and a runbook run: then `status`, `snapshots`, `runs`, `runs show`,
`jobs`, `config log` and `runbook stats` at COLUMNS=80 and COLUMNS=250.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import Runner, policy_settings

RUNBOOK = """\
name: restore-application-from-the-offsite-copy
rto: 1h
steps:
  - {id: stop-application-servers, action: shell, with: {command: "true"}}
  - {id: restore-the-newest-snapshot, action: shell, with: {command: "true"}}
  - {id: start-application-servers, action: shell, with: {command: "true"}}
"""


@pytest.fixture
def home(drkit: Runner, sample_tree: Path, tmp_path: Path) -> tuple[Runner, str]:
    cfg = policy_settings(tmp_path, sample_tree)
    cfg.write_text(
        cfg.read_text().replace("    rpo: 1d\n", '    rpo: 1d\n    schedule: "0 2 * * *"\n')
    )
    for name in ("nas", "cloud"):
        drkit("--config", str(cfg), "--repo", name, "init").check()
        drkit("--config", str(cfg), "--repo", name, "backup", str(sample_tree)).check()
    book = tmp_path / "restore.yaml"
    book.write_text(RUNBOOK)
    drkit("--config", str(cfg), "runbook", "save", str(book)).check()
    drkit(
        "--config", str(cfg), "runbook", "run", "restore-application-from-the-offsite-copy"
    ).check()
    return drkit, str(cfg)


def _at(home: tuple[Runner, str], columns: int, *args: str) -> str:
    drkit, cfg = home
    return drkit("--config", cfg, *args, env={"COLUMNS": str(columns)}).check().stdout


def _json(home: tuple[Runner, str], *args: str) -> object:
    return json.loads(_at(home, 250, *args, "--json"))


def _fits(text: str, columns: int) -> None:
    for line in text.splitlines():
        assert len(line.rstrip()) <= columns, f"wider than {columns}:\n{line}\n\n{text}"
    assert "…" not in text, text


def test_status_keeps_repositories_and_snapshot_times_whole(home: tuple[Runner, str]) -> None:
    found = _json(home, "status")["app"][0]  # type: ignore[index]
    names = [r["name"] for r in found["repositories"]]
    newest = [r["newest"][:16].replace("T", " ") for r in found["repositories"]]
    narrow, wide = _at(home, 80, "status"), _at(home, 250, "status")
    for text in (narrow, wide):
        assert all(n in text for n in names) and all(t in text for t in newest), text
    table = narrow.split("\n", 1)[1]  # the first line names the policy and source, then the table
    _fits(table.split("open alert")[0], 80)
    assert "not shown at 80 columns:" in narrow
    assert "last restore test" in wide and "not shown" not in wide


def test_snapshots_keep_ids_times_and_paths_whole(home: tuple[Runner, str]) -> None:
    snaps = _json(home, "--repo", "nas", "snapshots")
    narrow, wide = (
        _at(home, 80, "--repo", "nas", "snapshots"),
        _at(home, 250, "--repo", "nas", "snapshots"),
    )
    for text in (narrow, wide):
        for snap in snaps:  # type: ignore[attr-defined]
            assert snap["short_id"] in text and all(p in text for p in snap["paths"]), text


def test_runs_and_jobs_keep_ids_what_and_times_whole(home: tuple[Runner, str]) -> None:
    runs = _json(home, "runs")
    narrow, wide = _at(home, 80, "runs"), _at(home, 250, "runs")
    _fits(narrow, 80)
    for text in (narrow, wide):
        for run in runs:  # type: ignore[attr-defined]
            assert f" {run['id']} " in f" {text} " or f"\n{run['id']} " in text
            what = run["job"] or f"{run['kind']}:{run['subject']}"
            assert what in text, text
    jobs = _json(home, "jobs")
    narrow, wide = _at(home, 80, "jobs"), _at(home, 250, "jobs")
    for text in (narrow, wide):
        for job in jobs:  # type: ignore[attr-defined]
            assert job["job"] in text and job["next"][:16].replace("T", " ") in text, text


def test_config_log_and_runbook_stats_keep_ids_times_and_names_whole(
    home: tuple[Runner, str],
) -> None:
    versions = _json(home, "config", "log")
    narrow, wide = _at(home, 80, "config", "log"), _at(home, 250, "config", "log")
    _fits(narrow, 80)
    for text in (narrow, wide):
        for v in versions:  # type: ignore[attr-defined]
            shown = datetime.fromisoformat(v["time"]).astimezone()
            assert str(v["id"]) in text and v["name"] in text, text
            assert f"{shown:%Y-%m-%d %H:%M:%S}" in text, text
    name = "restore-application-from-the-offsite-copy"
    stats = _json(home, "runbook", "stats", name)
    narrow, wide = _at(home, 80, "runbook", "stats", name), _at(home, 250, "runbook", "stats", name)
    _fits(narrow.split("\n", 1)[1], 80)
    for text in (narrow, wide):
        for run in stats["runs"]:  # type: ignore[index]
            assert str(run["run_id"]) in text
            assert run["started_at"][:16].replace("T", " ") in text, text
    narrow_header, wide_header = narrow.splitlines()[1], wide.splitlines()[1]
    assert "restore-the-newest-snapshot" in wide_header
    assert "restore-the-newest-snapshot" not in narrow_header  # step columns go first
    assert "not shown at 80 columns:" in narrow
    listed = _json(home, "runbook", "list")
    narrow = _at(home, 80, "runbook", "list")
    _fits(narrow, 80)
    for book in listed:  # type: ignore[attr-defined]
        assert book["name"] in narrow and book["version"] in narrow, narrow
