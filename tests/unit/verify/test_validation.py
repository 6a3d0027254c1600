"""Validation commands: argv, {dir} and DRKIT_RESTORE_DIR, exit codes, timeouts, leftovers."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from drkit.verify.validation import ValidationCommand, run_validation

MINUTE = timedelta(minutes=1)


def cmd(text: str) -> ValidationCommand:
    return ValidationCommand.parse(text)


def test_dir_is_substituted_exported_and_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("restored\n")
    outcome = run_validation(
        cmd("sh -c 'cat {dir}/data.txt; echo \"$DRKIT_RESTORE_DIR\"; pwd'"), str(tmp_path), MINUTE
    )
    assert outcome.ok and outcome.returncode == 0
    assert outcome.output_tail.split() == ["restored", str(tmp_path), str(tmp_path)]


def test_a_failing_command_fails_with_its_code_and_output(tmp_path: Path) -> None:
    outcome = run_validation(cmd("sh -c 'echo boom >&2; exit 3'"), str(tmp_path), MINUTE)
    assert not outcome.ok and outcome.returncode == 3
    assert outcome.error == "exited with code 3"
    assert outcome.output_tail.strip() == "boom"


def test_only_the_tail_of_long_output_is_kept(tmp_path: Path) -> None:
    outcome = run_validation(cmd("sh -c 'seq 1 100000'"), str(tmp_path), MINUTE)
    assert outcome.ok
    assert outcome.output_tail.endswith("99999\n100000\n")
    assert len(outcome.output_tail) == 4000


def test_a_missing_program_is_named(tmp_path: Path) -> None:
    outcome = run_validation(cmd("no-such-program-xyz --flag"), str(tmp_path), MINUTE)
    assert not outcome.ok and outcome.returncode is None
    assert "no-such-program-xyz" in outcome.error


def test_a_command_past_its_timeout_is_killed(tmp_path: Path) -> None:
    outcome = run_validation(cmd("sleep 30"), str(tmp_path), timedelta(seconds=0.5))
    assert not outcome.ok and outcome.returncode is None
    assert "timed out after 0.5 s" in outcome.error


def test_a_server_left_running_is_stopped(tmp_path: Path) -> None:
    pidfile = tmp_path / "server.pid"
    outcome = run_validation(
        cmd(f"sh -c 'sleep 300 > /dev/null 2>&1 & echo $! > {pidfile}; echo started'"),
        str(tmp_path),
        MINUTE,
    )
    assert outcome.ok and outcome.output_tail == "started\n"
    pid = int(pidfile.read_text())
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    for _ in range(100):  # the killed child is reaped by init a moment later
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        if _is_zombie(pid):
            return False
        time.sleep(0.05)
    return True


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return False


def test_names_are_short_and_quoted() -> None:
    assert cmd("sqlite3 '{dir}/a b.db' 'select 1'").name == "sqlite3 '{dir}/a b.db' 'select 1'"
    assert len(cmd("echo " + "x" * 200).name) == 80
