# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as parameters
"""Real processes: a runner killed with SIGKILL resumes; approvals and cancels come from
other processes; re-run from a step; dry run runs nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from drkit.users.audit import entries
from tests.integration.runbooks.cli import (
    Drkit,
    drkit_cli,  # noqa: F401
    kill_pid_file,
    wait_until,
)


def _crash_book(work: Path) -> str:
    return f"""
name: crashy
rto: 10m
steps:
  - id: first
    action: shell
    with: {{command: "echo ran >> {work}/first.log; echo token=abc >> $DRKIT_OUTPUT"}}
  - id: slow
    action: shell
    with:
      command: >-
        if [ -e {work}/go ]; then
        state=$(awk '{{print $3}}' /proc/$(cat {work}/bg.pid)/stat 2>/dev/null);
        case "$state" in ""|Z) echo old-gone;; *) echo old-alive;; esac >> {work}/seen;
        echo finishing; else
        echo $$ > {work}/slow.pid; sleep 120 & echo $! > {work}/bg.pid;
        touch {work}/slow.started; wait; fi
  - id: last
    action: shell
    with: {{command: "echo ${{{{ steps.first.outputs.token }}}} > {work}/last.out"}}
"""


def test_a_runner_killed_mid_run_resumes_at_the_unfinished_step(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    drkit_cli.save(tmp_path / "crashy.yaml", _crash_book(work))
    runner = drkit_cli.background("runbook", "run", "crashy")
    try:
        wait_until(lambda: (work / "slow.started").exists(), "the slow step to start")
        runner.send_signal(signal.SIGKILL)
        runner.wait(30)
        shell = int((work / "slow.pid").read_text())
        # the step's shell dies with its runner (parent-death signal) ...
        wait_until(lambda: not _alive(shell) or None, "the step's shell to die with the runner")
        background = int((work / "bg.pid").read_text())
        assert _alive(background)  # ... what it started in its group lives on until a resume
    finally:
        kill_pid_file(work / "slow.pid")
    run_id = drkit_cli.latest_run()
    assert run_id is not None
    view = drkit_cli.run_view(run_id)
    assert view["status"] == "running"  # nobody closed it: the process died
    assert [(s["name"], s["status"]) for s in view["steps"]] == [
        ("first", "succeeded"),
        ("slow", "running"),
    ]
    (work / "go").touch()
    try:
        report = drkit_cli.json("runbook", "resume", str(run_id))
    finally:
        kill_pid_file(work / "bg.pid")
    assert report["status"] == "succeeded" and report["run_id"] == run_id
    assert (work / "seen").read_text() == "old-gone\n"  # never two copies of the step at once
    assert not _alive(background)
    view = drkit_cli.run_view(run_id)
    assert [(s["name"], s["status"]) for s in view["steps"]] == [
        ("first", "succeeded"),
        ("slow", "interrupted"),
        ("slow", "succeeded"),
        ("last", "succeeded"),
    ]
    assert (work / "first.log").read_text() == "ran\n"  # not run twice
    assert (work / "last.out").read_text() == "abc\n"  # its output came from the journal


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


APPROVAL = """
name: approval
steps:
  - id: prepare
    action: shell
    with: {command: "echo ready"}
  - id: go
    manual: {prompt: "Promote the replica?", approvers: [alice], timeout: 60}
  - id: after
    action: shell
    with: {command: "echo approved by ${{ steps.go.outputs.approved_by }}"}
"""


def _waiting_step(drkit_cli: Drkit) -> int | None:
    run_id = drkit_cli.latest_run()
    if run_id is None:
        return None
    steps = drkit_cli.run_view(run_id)["steps"]
    return run_id if steps and steps[-1]["status"] == "waiting" else None


def test_a_manual_step_is_approved_from_another_process(drkit_cli: Drkit, tmp_path: Path) -> None:
    drkit_cli.save(tmp_path / "approval.yaml", APPROVAL)
    runner = drkit_cli.background("runbook", "run", "approval", "--json")
    try:
        run_id = wait_until(lambda: _waiting_step(drkit_cli), "the manual step to wait")
        mallory = {**drkit_cli.env, "DRKIT_TOKEN": drkit_cli.token_of("mallory")}
        refused = subprocess.run(
            [sys.executable, "-m", "drkit", "runbook", "approve", str(run_id), "go"],
            env=mallory, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert refused.returncode == 65 and "not an approver" in refused.stderr
        drkit_cli.approve(run_id, "go", "alice", "--comment", "ok")
        runner.communicate(timeout=60)
    finally:
        runner.kill()
    assert runner.returncode == 0
    view = drkit_cli.run_view(run_id)
    go = next(s for s in view["steps"] if s["name"] == "go")
    assert (go["status"], go["actor"]) == ("succeeded", "alice")
    after = next(s for s in view["steps"] if s["name"] == "after")
    assert "approved by alice" in after["output"]


def test_a_run_is_cancelled_from_another_process(drkit_cli: Drkit, tmp_path: Path) -> None:
    drkit_cli.save(tmp_path / "approval.yaml", APPROVAL)
    runner = drkit_cli.background("runbook", "run", "approval")
    try:
        run_id = wait_until(lambda: _waiting_step(drkit_cli), "the manual step to wait")
        named = _cancel(drkit_cli.env, run_id, "--by", "bob")
        assert named.returncode == 2 and "--by no longer" in named.stderr  # a name proves nothing
        nobody = _cancel(drkit_cli.env, run_id)
        assert nobody.returncode == 2 and "DRKIT_TOKEN" in nobody.stderr  # no one signed in
        env = {**drkit_cli.env, "DRKIT_TOKEN": drkit_cli.token_of("bob")}
        signed = _cancel(env, run_id)
        assert signed.returncode == 0 and "asked run" in signed.stdout, signed.stderr
        runner.wait(60)
    finally:
        runner.kill()
    assert runner.returncode == 63  # RunCancelled
    view = drkit_cli.run_view(run_id)
    assert view["status"] == "cancelled" and view["error"] == "cancelled by bob"
    assert view["steps"][-1]["status"] == "interrupted"
    again = _cancel(env, run_id)
    assert again.returncode == 64 and "not running" in again.stderr
    with drkit_cli.catalog().session() as s:
        audited = [(e.actor, e.outcome.value) for e in entries(s, action="runbook.cancel")]
    assert ("bob", "ok") in audited


def _cancel(env: dict[str, str], run_id: int, *more: str) -> subprocess.CompletedProcess[str]:
    """`drkit runbook cancel RUN`, no terminal to sign in at."""
    return subprocess.run(
        [sys.executable, "-m", "drkit", "runbook", "cancel", str(run_id), *more],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def test_rerun_from_a_step_and_dry_run(drkit_cli: Drkit, tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    text = f"""
name: rerun
inputs: {{who: {{default: world}}}}
steps:
  - {{id: a, action: shell, with: {{command: "echo a >> {work}/log; echo n=7 >> $DRKIT_OUTPUT"}}}}
  - {{id: b, action: shell, with: {{command: "echo b${{{{ steps.a.outputs.n }}}} >> {work}/log"}}}}
"""
    drkit_cli.save(tmp_path / "rerun.yaml", text)
    plan = drkit_cli.json("runbook", "run", "rerun", "--dry-run", "--input", "who=x")
    assert [s["id"] for s in plan["steps"]] == ["a", "b"]
    assert not (work / "log").exists() and drkit_cli.latest_run() is None  # nothing ran
    first = drkit_cli.json("runbook", "run", "rerun")
    second = drkit_cli.json("runbook", "rerun", str(first["run_id"]), "--from", "b")
    assert second["status"] == "succeeded" and second["run_id"] != first["run_id"]
    assert (work / "log").read_text() == "a\nb7\nb7\n"
    bad = drkit_cli("runbook", "rerun", str(first["run_id"]), "--from", "zz")
    assert bad.returncode == 60 and "not a top-level step" in bad.stderr


def test_exit_codes_for_a_failed_run_and_a_drill_past_its_rto(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    drkit_cli.save(
        tmp_path / "fails.yaml",
        "name: fails\nsteps: [{id: x, action: shell, with: {command: 'exit 3'}}]\n",
    )
    failed = drkit_cli("runbook", "run", "fails")
    assert failed.returncode == 61
    assert "the command exited with 3 (expected 0)" in failed.stderr
    drkit_cli.save(
        tmp_path / "late.yaml",
        "name: late\nrto: 1s\nsteps: [{id: x, action: shell, with: {command: 'sleep 1.3'}}]\n",
    )
    normal = drkit_cli("runbook", "run", "late")
    assert normal.returncode == 0 and "RTO 1s missed" in normal.stdout
    drill = drkit_cli("runbook", "run", "late", "--drill", "--json")
    assert drill.returncode == 62 and "longer than the RTO" in drill.stderr
    assert '"kind": "drill"' in drill.stdout and '"rto_met": false' in drill.stdout


def test_a_drill_started_by_the_daemon_writes_into_its_run(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    from drkit.catalog.runs import RunJournal, get_run

    drkit_cli.save(
        tmp_path / "d.yaml",
        "name: d\nsteps: [{id: x, action: shell, with: {command: 'echo hi'}}]\n",
    )
    catalog = drkit_cli.catalog()
    journal = RunJournal.start(catalog, kind="drill", subject="d", trigger="schedule")
    env = {**drkit_cli.env, "DRKIT_RUN_ID": str(journal.run_id)}
    done = subprocess.run(
        [*_drkit(), "runbook", "run", "d", "--drill", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    view = get_run(catalog, journal.run_id)
    assert view.status.value == "running"  # the daemon finishes it, not the command
    assert [s.name for s in view.steps] == ["x"] and view.subject_version is not None


def _drkit() -> list[str]:

    return [sys.executable, "-m", "drkit"]


def test_sigint_interrupts_the_run_and_stops_the_running_command(
    drkit_cli: Drkit, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    drkit_cli.save(tmp_path / "crashy.yaml", _crash_book(work))
    runner = drkit_cli.background("runbook", "run", "crashy")
    try:
        wait_until(lambda: (work / "slow.started").exists(), "the slow step to start")
        runner.send_signal(signal.SIGINT)  # what the daemon sends to stop a job
        assert runner.wait(30) == 130
        pid = int((work / "slow.pid").read_text())
        wait_until(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), "sleep to end")
    finally:
        kill_pid_file(work / "slow.pid")
    run_id = drkit_cli.latest_run()
    assert run_id is not None
    view = drkit_cli.run_view(run_id)
    assert view["status"] == "interrupted"
    assert [s["status"] for s in view["steps"]] == ["succeeded", "interrupted"]
    (work / "go").touch()
    assert drkit_cli.json("runbook", "resume", str(run_id))["status"] == "succeeded"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True
