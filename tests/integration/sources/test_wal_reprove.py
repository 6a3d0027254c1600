# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as parameters
"""A WAL segment damaged or deleted after it was proved intact does not stay proved.

On a real cluster: the archive check proves the chain; then one byte of a
proved segment flips (same name, same size: a listing cannot see it). A
check that reads proofs again (``--read-data``, or the daemon's
``--reprove-after`` age) finds it, withdraws the proof, exits non-zero and
records the gap; status then names the gap and counts the copy out, and the
monitor's RPO alert names it while the point is still within the RPO.
``check --chain --read-data`` withdraws a proof too. A deleted segment is a
gap at the next listing.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from drkit.catalog.tables import WalProvedRow
from drkit.scheduler.jobs import JobKind, plan_jobs
from drkit.services.workspace import Workspace
from tests.fixtures.pgcluster import PgLab, pglab  # noqa: F401
from tests.integration.sources.test_pg_rpo import (
    _archive_now,
    _at,
    _commit,
    _config,
    _pg_check,
    _record,
    _rpo_alerts,
    _scan,
    _status,
)


def _proved(cfg: Path) -> set[str]:
    ws = Workspace(config=cfg)
    try:
        with ws.catalog().session() as session:
            return {r.name for r in session.scalars(select(WalProvedRow))}
    finally:
        ws.close()


def _archive_check_argv(cfg: Path) -> tuple[str, ...]:
    """What the daemon's archive check job runs."""
    ws = Workspace(config=cfg)
    try:
        job = next(j for j in plan_jobs(ws.settings) if j.kind is JobKind.ARCHIVE_CHECK)
        return job.steps[0].argv
    finally:
        ws.close()


def _age_proofs(cfg: Path, by: timedelta) -> None:
    ws = Workspace(config=cfg)
    try:
        with ws.catalog().session() as session:
            for row in session.scalars(select(WalProvedRow)):
                row.proved_at = row.proved_at - by
    finally:
        ws.close()


def test_a_proved_segment_that_rots_is_a_gap_again(pglab: PgLab) -> None:
    cluster = pglab.cluster()
    cluster.sql("create table t (x int)")
    cfg = _config(pglab, cluster)
    assert pglab.drkit("--config", str(cfg), "backup", "--policy", "db").returncode == 0
    structure = pglab.drkit("--config", str(cfg), "--repo", "main", "check", "--json")
    _record(cfg, JobKind.CHECK, structure.returncode, json.loads(structure.stdout))
    _scan(cfg)
    before = _commit(cluster, 10)
    segment = _archive_now(cluster)  # holds the commits up to ``before``
    after = _commit(cluster, 10)
    _archive_now(cluster)
    sysid = cluster.one("select system_identifier from pg_control_system()")
    name = f"{sysid}-{segment}"
    obj = pglab.repo / "wal" / name

    code, doc, err = _pg_check(pglab, cfg, cluster)
    assert code == 0 and doc["recovery_point"]["gap"] is None, err
    assert name in _proved(cfg)
    now = after + timedelta(seconds=5)  # well within the 1m RPO
    assert _status(cfg, now)["why"] == ""

    # one flipped byte, same size: the trusted proof hides it until it is read again
    original = obj.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x01
    obj.write_bytes(bytes(damaged))
    code, doc, err = _pg_check(pglab, cfg, cluster, "--reprove-after", "7d")
    assert code == 0 and doc["wal_reproved"] == 0  # the proof is young: trusted, not read
    # a week later (the proofs dated back), the daemon's archive check reads them again
    _age_proofs(cfg, timedelta(days=8))
    assert _archive_check_argv(cfg)[-2:] == ("--reprove-after", "7d")
    code, doc, err = _pg_check(pglab, cfg, cluster, "--reprove-after", "7d")
    assert code == 25, err  # wal-chain-broken, naming the segment
    assert doc["wal_reproved"] >= 1
    assert doc["recovery_point"]["gap"] == segment and doc["wal_unproved"] == [name]
    assert name in doc["wal_damaged"] and segment in err
    assert name not in _proved(cfg)
    _record(cfg, JobKind.ARCHIVE_CHECK, code, doc, err)
    alerts = _rpo_alerts(cfg, now)  # within the RPO: the alert fires on the gap itself
    assert len(alerts) == 1 and "at risk" in alerts[0] and segment in alerts[0], alerts
    repo = _status(cfg, now)
    assert repo["why"].startswith(f"WAL chain broken at {segment}"), repo
    assert f"WAL segment {segment} is missing or damaged" in repo["recovery_point"]
    assert _at(repo["newest"]) < before

    # repaired: read again, proved again, the gap and the alert are gone
    obj.write_bytes(original)
    code, doc, err = _pg_check(pglab, cfg, cluster)
    assert code == 0 and doc["recovery_point"]["gap"] is None, err
    assert name in _proved(cfg)
    _record(cfg, JobKind.ARCHIVE_CHECK, code, doc, err)
    assert _rpo_alerts(cfg, now) == [] and _status(cfg, now)["why"] == ""

    # pg check --read-data reads every proof again, however young
    obj.write_bytes(bytes(damaged))
    code, doc, err = _pg_check(pglab, cfg, cluster, "--read-data")
    assert code == 25 and doc["wal_unproved"] == [name], err
    obj.write_bytes(original)
    assert _pg_check(pglab, cfg, cluster)[0] == 0 and name in _proved(cfg)

    # check --chain --read-data withdraws the proof of what it finds damaged
    obj.write_bytes(bytes(damaged))
    chain = pglab.drkit("--config", str(cfg), "--repo", "main", "check", "--chain", "--read-data")
    assert chain.returncode == 13, chain.stdout + chain.stderr  # wal-damaged
    assert name not in _proved(cfg)
    assert _status(cfg, now)["why"].startswith(f"WAL chain broken at {segment}")

    # deleted after it was proved: a gap at the next listing, the proof forgotten
    obj.write_bytes(original)
    assert _pg_check(pglab, cfg, cluster)[0] == 0 and name in _proved(cfg)
    obj.unlink()
    assert _status(cfg, now)["why"].startswith(f"WAL chain broken at {segment}")
    code, doc, err = _pg_check(pglab, cfg, cluster)
    assert code == 25 and doc["recovery_point"]["gap"] == segment, err
    assert name not in _proved(cfg)
    _record(cfg, JobKind.ARCHIVE_CHECK, code, doc, err)
    alerts = _rpo_alerts(cfg, now)
    assert len(alerts) == 1 and segment in alerts[0], alerts
