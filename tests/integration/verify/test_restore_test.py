"""`drkit verify restore-test` on real repositories: pass, damage, validation, cleanup, space.

The restore test restores into a scratch directory, reads every file back
against the snapshot's blob ids, runs the validation commands and always
removes the scratch directory: every test here checks the scratch root is
empty afterwards.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from drkit.verify.restore_test import RestoreTestSpec, run_restore_test
from drkit.verify.steps import StepHooks, StepKind, StepResult
from tests.conftest import Runner, make_sample_tree, mounted_tmpfs
from tests.fixtures.damage import RANDOM_BIN, Backup
from tests.integration.verify.conftest import as_json, text


def test_a_good_repository_passes(initialized: Runner, backup: Backup, scratch: Path) -> None:
    done = initialized("verify", "restore-test", "--scratch", str(scratch), "--json")

    assert done.returncode == 0, text(done)
    result = as_json(done)
    assert result["passed"] is True
    assert result["snapshot"] == backup.snapshot
    assert [s["name"] for s in result["steps"]] == ["prepare", "restore", "verify", "cleanup"]
    assert all(s["ok"] for s in result["steps"])
    assert result["files"] == 34  # 30 notes, leaf, hard link, random.bin, empty
    assert result["bytes"] > 3 * 1024 * 1024
    assert 0 < result["rto_s"] <= result["total_s"]
    assert list(scratch.iterdir()) == []


def test_text_report_and_default_scratch_under_drkit_home(
    initialized: Runner, backup: Backup, drkit_env: dict[str, str]
) -> None:
    done = initialized("verify", "restore-test")

    assert done.returncode == 0, text(done)
    assert "PASSED" in done.stdout and backup.snapshot[:8] in done.stdout
    for step in ("prepare", "restore", "verify", "cleanup"):
        assert step in done.stdout
    assert "recovery time" in done.stdout
    assert list((Path(drkit_env["DRKIT_HOME"]) / "scratch").iterdir()) == []


def test_a_damaged_pack_fails_and_names_the_file(
    initialized: Runner, backup: Backup, scratch: Path
) -> None:
    backup.damage_blob(backup.node(RANDOM_BIN).content[-1])

    done = initialized("verify", "restore-test", "--scratch", str(scratch), "--json")

    assert done.returncode == 32, text(done)
    result = as_json(done)
    assert result["passed"] is False
    assert [p["path"] for p in result["problems"]] == [backup.path_of(RANDOM_BIN)]
    restore_step = next(s for s in result["steps"] if s["name"] == "restore")
    assert not restore_step["ok"] and backup.path_of(RANDOM_BIN) in restore_step["error"]
    assert [s["name"] for s in result["steps"]] == ["prepare", "restore", "cleanup"]
    assert "failed at restore" in done.stderr
    assert list(scratch.iterdir()) == []


def test_the_read_back_catches_a_file_changed_after_the_restore(
    backup: Backup, scratch: Path
) -> None:
    """The verify step re-reads what is on disk, independently of the restorer's checks."""
    target = backup.path_of("docs/note7.txt")

    def tamper(step: StepResult) -> None:
        if step.kind is StepKind.RESTORE:
            [restored] = [p for p in scratch.iterdir() if p.is_dir()]  # beside its .owner file
            with open(f"{restored}{target}", "r+b") as f:
                f.seek(100)
                f.write(b"X")

    result = run_restore_test(
        backup.open(), RestoreTestSpec(scratch_root=scratch), hooks=StepHooks(on_step_end=tamper)
    )

    assert not result.passed
    assert result.failed_step is not None and result.failed_step.kind is StepKind.VERIFY
    [problem] = result.problems
    assert problem.path == target and "content differs" in problem.reason
    assert list(scratch.iterdir()) == []


def test_a_failing_validation_command_fails_the_test(
    initialized: Runner, backup: Backup, scratch: Path
) -> None:
    done = initialized(
        "verify",
        "restore-test",
        "--scratch",
        str(scratch),
        "--validate",
        "test -f {dir}" + backup.path_of("docs/deep/leaf.txt"),
        "--validate",
        "sh -c 'echo checking $DRKIT_RESTORE_DIR; exit 7'",
        "--validate",
        "touch never-run",
        "--json",
    )

    assert done.returncode == 32, text(done)
    steps = as_json(done)["steps"]
    assert [s["kind"] for s in steps] == [
        "prepare",
        "restore",
        "verify",
        "validate",
        "validate",
        "cleanup",
    ]
    first, second = steps[3], steps[4]
    assert first["ok"] and not second["ok"]
    assert "exited with code 7" in second["error"]
    assert second["output_tail"].startswith(f"checking {scratch}/drkit-restore-test-")
    assert list(scratch.iterdir()) == []


def test_a_sqlite_database_restores_and_answers_a_query(
    initialized: Runner, tmp_path: Path, scratch: Path
) -> None:
    src = tmp_path / "app"
    src.mkdir()
    db = sqlite3.connect(src / "app.db")
    db.execute("create table items (id integer primary key, name text)")
    db.executemany("insert into items (name) values (?)", [(f"item {i}",) for i in range(42)])
    db.commit()
    db.close()
    initialized("backup", str(src)).check()
    restored_db = "{dir}" + f"{src}/app.db"

    done = initialized(
        "verify",
        "restore-test",
        "--scratch",
        str(scratch),
        "--validate",
        f"sqlite3 {restored_db} 'pragma integrity_check'",
        "--validate",
        f"sqlite3 {restored_db} 'select count(*) from items'",
        "--json",
    )

    assert done.returncode == 0, text(done)
    steps = as_json(done)["steps"]
    assert [s["output_tail"] for s in steps if s["kind"] == "validate"] == ["ok\n", "42\n"]

    wrong = initialized(
        "verify",
        "restore-test",
        "--scratch",
        str(scratch),
        "--validate",
        f"sqlite3 {restored_db} 'select count(*) from orders'",
    )
    assert wrong.returncode == 32
    assert "no such table: orders" in wrong.stdout
    assert list(scratch.iterdir()) == []


def test_too_little_scratch_space_fails_before_restoring(
    initialized: Runner, backup: Backup, tmp_path: Path
) -> None:
    with mounted_tmpfs(tmp_path / "small", "1m") as small:
        done = initialized("verify", "restore-test", "--scratch", str(small))
        assert done.returncode == 34, text(done)
        assert "not enough free space" in done.stderr
        assert "--scratch" in done.stderr  # the hint
        assert list(small.iterdir()) == []


def test_snapshot_choice_by_id_tag_and_window(
    initialized: Runner, backup: Backup, tmp_path: Path, scratch: Path
) -> None:
    other = make_sample_tree(tmp_path / "other", seed=2, files=3)
    initialized("backup", "--tag", "nightly", str(other)).check()

    def tested(*args: str) -> str:
        done = initialized("verify", "restore-test", "--scratch", str(scratch), "--json", *args)
        assert done.returncode == 0, text(done)
        return str(as_json(done)["snapshot"])

    newest = tested()
    assert newest != backup.snapshot
    assert tested("--snapshot", backup.snapshot[:8]) == backup.snapshot
    assert tested("--tag", "nightly") == newest
    assert tested("--path", str(backup.src)) == backup.snapshot
    assert tested("--window", "1d") in {backup.snapshot, newest}
    missing = initialized("verify", "restore-test", "--scratch", str(scratch), "--tag", "weekly")
    assert missing.returncode == 14 and "tag weekly" in missing.stderr


def test_an_interrupted_test_still_removes_its_scratch(
    backup: Backup, drkit_env: dict[str, str], tmp_path: Path, scratch: Path
) -> None:
    marker = tmp_path / "validation-started"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drkit",
            "--repo",
            str(backup.repo_dir),
            "verify",
            "restore-test",
            "--scratch",
            str(scratch),
            "--validate",
            f"sh -c 'touch {marker}; exec sleep 120'",
        ],
        env=drkit_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), proc.communicate()
        assert list(scratch.iterdir()) != []  # the restore is there while validating
        os.kill(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert list(scratch.iterdir()) == []
