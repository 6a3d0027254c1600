# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as parameters
"""The RPO of a physical source counts its WAL archive, and never past a gap.

On a real cluster: healthy archiving keeps the recovery point at the last
commit (within the objective); archiving stopped leaves it at the last
archived commit so the RPO grows and alerts; a damaged, then a deleted,
segment moves it back to the commit before the gap, and status, pg check and
the monitor's alert name the segment. ``now`` is passed to the status and
the monitor, so no test waits for an objective to pass.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from drkit.catalog.runs import StepStatus
from drkit.monitor.facts import gather
from drkit.monitor.rules import evaluate_rules
from drkit.monitor.scan import scan_repositories
from drkit.scheduler.executor import StepResult
from drkit.scheduler.jobs import JobKind, plan_jobs
from drkit.scheduler.record import StepRecorder
from drkit.services.status import status_report
from drkit.services.workspace import Workspace
from tests.fixtures.pgcluster import PgCluster, PgLab, pglab  # noqa: F401

RPO = timedelta(minutes=1)


def _config(lab: PgLab, cluster: PgCluster) -> Path:
    cfg = lab.base / "drkit.yaml"
    cfg.write_text(f"""\
version: 1
home: {lab.base / "drkit-home"}
repositories:
  main: {{url: {lab.repo}, media: disk, site: dc1, password_file: {lab.password_file}}}
policies:
  db:
    site: dc1
    rpo: 1m
    sources:
      - {{type: postgres-physical, dsn: "{cluster.dsn}", archive_check: "*/5 * * * *"}}
    repositories: [main]
""")
    return cfg


def _commit(cluster: PgCluster, n: int) -> datetime:
    """Commit ``n`` rows, one transaction each; the server's clock after the last."""
    for i in range(n):
        cluster.sql("insert into t values (%s)", i)
    return cluster.one("select clock_timestamp()")


def _archive_now(cluster: PgCluster) -> str:
    segment = cluster.switch_wal()
    cluster.wait_archived(segment)
    return segment


def _status(cfg: Path, now: datetime) -> dict[str, Any]:
    ws = Workspace(config=cfg)
    try:
        (repo,) = status_report(ws, None, now).to_json()["db"][0]["repositories"]
        return dict(repo)
    finally:
        ws.close()


def _pg_check(
    lab: PgLab, cfg: Path, cluster: PgCluster, *extra: str, timeout: int = 30
) -> tuple[int, dict[str, Any], str]:
    done = lab.drkit("--config", str(cfg), "--repo", "main", "pg", "check", "--dsn", cluster.dsn,
                     "--timeout", str(timeout), "--json", *extra)  # fmt: skip
    return done.returncode, json.loads(done.stdout or "{}"), done.stderr


def _record(cfg: Path, kind: JobKind, code: int, doc: dict[str, Any], error: str = "") -> None:
    """What the daemon does with a finished step of a job of ``kind``."""
    ws = Workspace(config=cfg)
    try:
        job = next(j for j in plan_jobs(ws.settings) if j.kind is kind)
        status = StepStatus.SUCCEEDED if code == 0 else StepStatus.FAILED
        result = StepResult(job.steps[0], status, code, doc, error or None, _utc(), 1.0)
        StepRecorder(ws.catalog(), lambda _: None, lambda _: [])(job, result)
    finally:
        ws.close()


def _scan(cfg: Path) -> None:
    """The daemon's rescan after a backup: the catalog learns of the base backup."""
    ws = Workspace(config=cfg)
    try:
        (scanned,) = scan_repositories(ws.catalog(), ["main"], str(cfg))
        assert scanned.error is None and scanned.snapshots == 1
    finally:
        ws.close()


def _rpo_alerts(cfg: Path, now: datetime) -> list[str]:
    ws = Workspace(config=cfg)
    try:
        facts = gather(ws.catalog(), ws.settings, now)
        return [c.summary for c in evaluate_rules(facts) if c.dedup_key.startswith("rpo:")]
    finally:
        ws.close()


def _utc() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


def _at(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def test_the_rpo_of_a_physical_source_follows_its_gap_free_wal(pglab: PgLab) -> None:
    cluster = pglab.cluster()
    cluster.sql("create table t (x int)")
    cfg = _config(pglab, cluster)
    assert pglab.drkit("--config", str(cfg), "backup", "--policy", "db").returncode == 0
    structure = pglab.drkit("--config", str(cfg), "--repo", "main", "check", "--json")
    _record(cfg, JobKind.CHECK, structure.returncode, json.loads(structure.stdout))
    _scan(cfg)

    # healthy: the recovery point is the last commit, so the RPO holds long after the backup
    committed = _commit(cluster, 20)
    _archive_now(cluster)
    repo = _status(cfg, committed + RPO - timedelta(seconds=1))
    assert repo["why"] == "" and "missing" not in repo["recovery_point"]
    point = _at(repo["newest"])
    assert committed <= point <= cluster.one("select clock_timestamp()")  # every commit
    code, doc, err = _pg_check(pglab, cfg, cluster)
    assert code == 0, err
    assert doc["recovery_point"]["gap"] is None
    _record(cfg, JobKind.ARCHIVE_CHECK, code, doc)
    assert _rpo_alerts(cfg, committed + RPO - timedelta(seconds=1)) == []

    # archiving stops: commits go on, the recovery point does not, and the RPO alerts
    cluster.sql("alter system set archive_command = 'exit 1'")
    cluster.sql("select pg_reload_conf()")
    time.sleep(1.5)
    stuck = _commit(cluster, 5)
    cluster.switch_wal()
    repo = _status(cfg, stuck + timedelta(seconds=1))
    held = _at(repo["newest"])
    assert held < stuck - timedelta(seconds=1)  # not the new commits: they are not archived
    repo = _status(cfg, held + RPO + timedelta(seconds=1))
    assert repo["why"].startswith("stale: newest recovery point is")
    code, _doc, err = _pg_check(pglab, cfg, cluster, timeout=3)
    assert code == 28, err  # wal-archive-stalled: the job fails, nothing new is recorded
    alerts = _rpo_alerts(cfg, held + RPO + timedelta(seconds=1))
    assert alerts and "newest verified recovery point is" in alerts[0]

    # archiving resumes: the point catches up with every commit
    cluster.sql("alter system reset archive_command")
    cluster.sql(f"alter system set archive_command = '{pglab.archive_command()}'")
    cluster.sql("select pg_reload_conf()")
    before_gap = _commit(cluster, 5)
    gap_segment = _archive_now(cluster)  # holds the commits up to before_gap
    time.sleep(1.5)
    after_gap = _commit(cluster, 5)
    _archive_now(cluster)
    sysid = cluster.one("select system_identifier from pg_control_system()")
    gap_object = pglab.repo / "wal" / f"{sysid}-{gap_segment}"
    # a damaged segment (one flipped byte), before any measurement proved it intact
    original = gap_object.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x01
    gap_object.write_bytes(bytes(damaged))
    repo = _status(cfg, after_gap)
    assert _at(repo["newest"]) < before_gap - timedelta(seconds=1)
    assert f"WAL segment {gap_segment} is missing or damaged" in repo["recovery_point"]
    gap_object.write_bytes(original)
    repo = _status(cfg, after_gap)
    assert _at(repo["newest"]) > before_gap and "missing" not in repo["recovery_point"]

    # a deleted segment: status, pg check and the monitor all count from before the gap
    gap_object.unlink()
    repo = _status(cfg, after_gap + RPO - timedelta(seconds=1))
    point = _at(repo["newest"])
    assert point < before_gap - timedelta(seconds=1)  # never the newest segment's commits
    assert repo["why"].startswith("stale") and gap_segment in repo["why"]
    code, doc, err = _pg_check(pglab, cfg, cluster)
    assert code == 25, err  # wal-chain-broken, naming the segment
    assert gap_segment in err and doc["recovery_point"]["gap"] == gap_segment
    _record(cfg, JobKind.ARCHIVE_CHECK, code, doc, err)
    alerts = _rpo_alerts(cfg, after_gap + RPO - timedelta(seconds=1))
    assert len(alerts) == 1 and f"WAL segment {gap_segment} is missing" in alerts[0], alerts
