"""Commands that only read the catalog print the same bytes through sqlite3 as through the ORM.

`drkit runs`, `jobs`, `config log` and `status` read a current SQLite catalog
with sqlite3 (catalog/quick.py and the domains' quick readers) and import no
SQLAlchemy; ``DRKIT_QUICK_READ=off`` sends them through the ORM. Each command
runs on a catalog with rows both ways and the outputs are compared byte for
byte; a catalog whose schema is behind is migrated, one that is newer refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from drkit.catalog.engine import _alembic_config, _head_revisions
from drkit.catalog.runs import RunJournal, RunStatus, StepStatus
from drkit.catalog.tables import AlertRow, SnapshotRow, VerificationRow
from drkit.catalog.types import utcnow
from drkit.scheduler.state import save_slot
from tests.integration.daemon.conftest import DaemonHome

COMMANDS = [
    ["runs"],
    ["runs", "--json"],
    ["runs", "--kind", "backup", "--status", "failed"],
    ["runs", "show", "1"],
    ["runs", "show", "1", "--json"],
    ["jobs"],
    ["jobs", "--json"],
    ["config", "log"],
    ["config", "log", "--json"],
    ["config", "log", "drkit", "--limit", "1"],
    ["status", "--json"],  # status's age columns differ by the second: see the in-process test
]


@pytest.fixture
def filled(home: DaemonHome) -> DaemonHome:
    """Runs with steps, a job's last slot, two versions of drkit.yaml."""
    home.drkit("jobs").check()  # the first version of drkit.yaml
    catalog = home.catalog()
    run = RunJournal.start(catalog, kind="backup", subject="app", trigger="cron", job="backup:app")
    step = run.begin_step("backup")
    run.end_step(step, StepStatus.SUCCEEDED, output="saved\n", details={"snapshot": "ab12"})
    run.begin_step("retention")
    run.finish(RunStatus.FAILED, error="boom", result={"approvals": [], "n": 1.5})
    RunJournal.start(catalog, kind="drill", subject="app", trigger="manual")
    save_slot(catalog, "backup:app", utcnow() - timedelta(hours=3), run.run_id)
    catalog.close()
    home.config.write_text(home.config.read_text() + "# a comment\n")
    home.drkit("jobs").check()  # the second version
    return home


def _run(home: DaemonHome, args: list[str], *, quick: bool) -> subprocess.CompletedProcess[str]:
    env = {**home.env, "DRKIT_QUICK_READ": "on" if quick else "off"}
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "drkit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if "|" in line}


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_the_sqlite3_read_prints_what_the_orm_read_prints(
    filled: DaemonHome, args: list[str]
) -> None:
    quick, orm = _run(filled, args, quick=True), _run(filled, args, quick=False)
    assert quick.returncode == orm.returncode == 0, quick.stderr + orm.stderr
    if args[0] != "status":
        assert quick.stdout == orm.stdout
    assert quick.stdout.strip() and "no runs yet" not in quick.stdout
    assert "sqlalchemy" not in _imported(quick.stderr)
    assert "alembic" not in _imported(quick.stderr)
    assert "sqlalchemy" in _imported(orm.stderr)  # the comparison is with the ORM's read


@pytest.fixture
def watched(filled: DaemonHome) -> DaemonHome:
    """A snapshot, what the daemon saw of it, a check, a restore test and an open alert."""
    filled.drkit("--repo", "local", "backup", "--policy", "app").check()
    catalog = filled.catalog()
    now = utcnow()
    source = str(filled.source)
    with catalog.session() as s:
        s.add(
            SnapshotRow(
                repository="local",
                snapshot_id="ab12",
                time=now - timedelta(hours=2),
                paths=source,
                tags="policy:app",
                hostname="h",
                first_seen=now,
                last_seen=now,
            )
        )
        s.add(
            SnapshotRow(
                repository="local",
                snapshot_id="cd34",
                time=now - timedelta(days=9),
                paths=source,
                tags="policy:app",
                hostname="h",
                first_seen=now,
                last_seen=now,
                gone_at=now,
            )
        )
        for kind, ok, ago in (("check", False, 5), ("check", True, 1), ("restore-test", True, 1)):
            s.add(
                VerificationRow(
                    repository="local",
                    subject="app",
                    kind=kind,
                    ok=ok,
                    started_at=now - timedelta(hours=ago),
                    duration_s=2.5,
                    snapshot_id="ab12",
                    summary=f"{kind} {'ok' if ok else 'failed'}",
                    source=source,
                )
            )
        for key, severity in (("rpo:app", "critical"), ("check:local", "warning")):
            s.add(
                AlertRow(
                    dedup_key=key,
                    status="open",
                    severity=severity,
                    summary=f"{key} fires",
                    source="monitor",
                    first_seen=now,
                    last_seen=now,
                )
            )
        s.add(
            AlertRow(
                dedup_key="old",
                status="resolved",
                severity="warning",
                summary="gone",
                first_seen=now,
                last_seen=now,
                resolved_at=now,
            )
        )
    catalog.close()
    return filled


class _Frozen(datetime):
    @classmethod
    def now(cls, tz: object = None) -> _Frozen:  # type: ignore[override]
        return cls(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_status_prints_the_same_through_sqlite3_and_the_orm_at_one_instant(
    watched: DaemonHome,
    json_flag: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from drkit.cli import output, status
    from drkit.cli.main import run

    for name, value in watched.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(status, "datetime", _Frozen)
    monkeypatch.setattr(output.out, "width", 200)
    printed = {}
    for mode in ("on", "off"):
        monkeypatch.setenv("DRKIT_QUICK_READ", mode)
        with pytest.raises(SystemExit) as stopped:
            run(["status", *json_flag])
        captured = capsys.readouterr()
        assert stopped.value.code in (0, 1, None), captured.err
        printed[mode] = captured.out
    assert printed["on"] == printed["off"]
    shown = printed["on"]
    if json_flag:  # the newest good check, the passed restore test
        assert '"last_check": {"kind": "check", "ok": true' in shown, shown
        assert '"restore_test": "ok"' in shown, shown
    else:
        assert "2 open alert(s)" in shown and "rpo:app fires" in shown and "gone" not in shown
        assert "ok in 2.50s" in shown, shown


def test_status_reads_the_catalog_without_sqlalchemy(watched: DaemonHome) -> None:
    result = _run(watched, ["status"], quick=True)
    assert "2 open alert(s)" in result.stdout, result.stdout + result.stderr
    assert "sqlalchemy" not in _imported(result.stderr)
    assert "alembic" not in _imported(result.stderr)


def test_the_filled_catalog_shows_its_rows(filled: DaemonHome) -> None:
    """The compared outputs hold the rows (not two equal empty listings)."""
    jobs = {j["job"]: j for j in json.loads(_run(filled, ["jobs", "--json"], quick=True).stdout)}
    assert jobs["backup:app"]["last_slot"] is not None
    assert _run(filled, ["config", "log", "--json"], quick=True).stdout.count('"uid"') == 2
    shown = _run(filled, ["runs", "show", "1"], quick=True).stdout
    assert "retention" in shown and "boom" in shown


@pytest.mark.parametrize("args", [["jobs"], ["config", "log"], ["runs"], ["status"]], ids=" ".join)
def test_a_catalog_behind_the_migrations_is_migrated_then_read(
    home: DaemonHome, args: list[str]
) -> None:
    db = home.root / "catalog.db"
    for leftover in home.root.glob("catalog.db*"):
        leftover.unlink()
    engine = create_engine(f"sqlite:///{db}")
    config = _alembic_config()
    with engine.begin() as conn:  # the catalog an older drkit left: only the first migration
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            text("insert into job_state (job, last_slot) values ('backup:app', :t)"),
            {"t": "2026-01-02 03:00:00.000000"},
        )
    engine.dispose()
    result = _run(home, args, quick=True)
    assert result.returncode == 0, result.stderr
    assert _revisions(db) == _head_revisions() != {"0001"}
    if args == ["jobs"]:
        assert "2026-01-02 03:00" in result.stdout  # the row the old schema held


@pytest.mark.parametrize("args", [["jobs"], ["config", "log"], ["runs"], ["status"]], ids=" ".join)
def test_a_catalog_newer_than_this_drkit_is_refused_with_a_hint(
    home: DaemonHome, args: list[str]
) -> None:
    home.drkit("jobs").check()
    db = home.root / "catalog.db"
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:  # what a future migration would leave behind
        conn.execute(text("insert into alembic_version values ('9999')"))
    engine.dispose()
    result = _run(home, args, quick=True)
    assert result.returncode == 40, result.stderr
    assert "schema 9999, newer than this drkit knows" in result.stderr
    assert "restore the catalog copy" in result.stderr and "Traceback" not in result.stderr
    assert "9999" in _revisions(db)


def _revisions(db: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = {row[0] for row in conn.execute(text("select version_num from alembic_version"))}
    engine.dispose()
    return found
