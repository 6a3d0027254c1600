"""Restore evidence per source: a drill tests each source's newest snapshot, and a source
that was not tested (or has no snapshot) is never shown as restore-tested ok."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from tests.conftest import Runner, policy_settings
from tests.integration.verify.conftest import as_json, text


def _sqlite(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("create table t (x)")
        conn.executemany("insert into t values (?)", [(i,) for i in range(100)])
        conn.commit()
    return path


def _with_sources(cfg: Path, *extra: Path) -> None:
    lines = "".join(f"\n      - {{type: sqlite, path: {db}}}" for db in extra)
    text_ = cfg.read_text()
    start = text_.index("    sources: [") + len("    sources: [")
    files = text_[start : text_.index("]", start)]
    cfg.write_text(
        text_.replace(f"    sources: [{files}]", f"    sources:\n      - {files}{lines}").replace(
            "repositories: [nas, cloud]", "repositories: [nas]"
        )
    )


def _restore_states(drkit: Runner, cfg: str) -> dict[str, str]:
    status = as_json(drkit("--config", cfg, "status", "--json").check())
    return {
        s["source"]: next(r for r in s["repositories"] if r["name"] == "nas")["restore_test"]
        for s in status["app"]
    }


def test_a_drill_of_one_snapshot_proves_only_its_source_and_a_full_drill_every_source(
    drkit: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    cfg = policy_settings(tmp_path, sample_tree)
    db = _sqlite(tmp_path / "app.db")
    _with_sources(cfg, db)
    args = ("--config", str(cfg))
    drkit(*args, "--repo", "nas", "init").check()
    drkit(*args, "backup", "--policy", "app").check()
    snaps = json.loads(drkit(*args, "--repo", "nas", "snapshots", "--json").check().stdout)
    (files_snap,) = [s["id"] for s in snaps if s["paths"] == [str(sample_tree)]]

    drkit(*args, "drill", "backup", "--policy", "app", "--snapshot", files_snap[:8]).check()
    states = _restore_states(drkit, str(cfg))
    database = next(label for label in states if label != str(sample_tree))
    assert states == {str(sample_tree): "ok", database: "never tested"}  # not "ok"

    report = as_json(drkit(*args, "drill", "backup", "--policy", "app", "--json").check())
    assert sorted(e["source"] for e in report["repositories"]) == sorted(states)
    assert {e["restore_test"]["sources"][0] for e in report["repositories"]} == set(states)
    assert _restore_states(drkit, str(cfg)) == {str(sample_tree): "ok", database: "ok"}

    # a source added since the backup has no snapshot: the drill fails for it, and only it
    _with_sources(policy_settings(tmp_path, sample_tree), db, tmp_path / "new.db")
    _sqlite(tmp_path / "new.db")
    done = drkit(*args, "drill", "backup", "--policy", "app", "--json")
    assert done.returncode == 32, text(done)
    verdicts = {e["source"]: e["verdict"] for e in as_json(done)["repositories"]}
    newest = next(label for label in verdicts if label not in states)
    assert verdicts == {str(sample_tree): "passed", database: "passed", newest: "failed"}
    states = _restore_states(drkit, str(cfg))
    assert states[newest] == "no snapshot" and states[database] == "ok"
