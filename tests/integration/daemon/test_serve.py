"""`drkit serve` as a user runs it: catch-up at start, metrics, clean stop mid-step."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from drkit.catalog.runs import RunStatus, StepStatus, get_run, list_runs
from drkit.catalog.types import utcnow
from drkit.scheduler.state import load_slots, save_slot
from tests.integration.daemon.conftest import (
    DEFAULT_POLICY,
    DaemonHome,
    free_port,
    stop,
    wait_for,
)


def finished_runs(home: DaemonHome, kind: str) -> list[object]:
    with_kind = list_runs(home.catalog(), kind=kind)
    return [r for r in with_kind if r.status is not RunStatus.RUNNING]


def test_a_backup_missed_while_down_runs_once_at_start_and_shows_in_metrics(
    home: DaemonHome,
) -> None:
    save_slot(home.catalog(), "backup:app", utcnow() - timedelta(days=3))
    port = free_port()
    proc = home.serve("--listen", f"127.0.0.1:{port}")
    try:
        wait_for(lambda: bool(finished_runs(home, "backup")), what="the catch-up backup")
        (run,) = list_runs(home.catalog(), kind="backup")
        assert run.status is RunStatus.SUCCEEDED
        assert run.trigger == "catch-up"
        snapshots = home.drkit("--repo", "local", "snapshots", "--json").check().stdout
        assert "policy:app" in snapshots

        def scraped() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                return r.read().decode()

        wait_for(
            lambda: 'drkit_job_last_run_success{drkit_job="backup:app"} 1.0' in scraped(),
            what="the backup in /metrics",
        )
        metrics = scraped()
        assert 'drkit_snapshot_age_seconds{policy="app",repository="local"}' in metrics
        assert 'drkit_rpo_objective_seconds{policy="app"} 86400.0' in metrics
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            assert r.status == 200
    finally:
        code, stderr = stop(proc)
    assert code == 0, stderr
    assert len(list_runs(home.catalog(), kind="backup")) == 1  # once, not once per missed day


def test_sigterm_ends_the_running_step_cleanly_and_records_it(home: DaemonHome) -> None:
    save_slot(home.catalog(), "backup:app", utcnow() - timedelta(days=1))
    proc = home.serve(env={"DRKIT_PAUSE_AT": "before-snapshot:300"})

    def step_running() -> bool:
        runs = list_runs(home.catalog(), kind="backup")
        return bool(runs) and any(
            s.status is StepStatus.RUNNING for s in get_run(home.catalog(), runs[0].id).steps
        )

    try:
        wait_for(step_running, what="the backup step to start")
    finally:
        code, stderr = stop(proc)
    assert code == 0, stderr
    (run,) = list_runs(home.catalog(), kind="backup")
    view = get_run(home.catalog(), run.id)
    assert view.status is RunStatus.INTERRUPTED
    assert [s.status for s in view.steps] == [StepStatus.INTERRUPTED]
    assert view.steps[0].finished_at is not None
    # the interrupted backup left no snapshot, and the repository is consistent
    assert home.drkit("--repo", "local", "snapshots", "--json").check().stdout.strip() == "[]"
    home.drkit("--repo", "local", "check").check()


TWO_POLICIES = (
    DEFAULT_POLICY
    + """  cache:
    sources: [{source}]
    repositories: [local]
    schedule: "0 2 * * *"
    rpo: 1d
"""
)


def test_a_stop_records_no_queued_job_and_the_next_start_catches_up_without_alerts(
    home: DaemonHome,
) -> None:
    home.write_settings(policy=TWO_POLICIES)
    for job in ("backup:app", "backup:cache"):
        save_slot(home.catalog(), job, utcnow() - timedelta(days=1))
    port = free_port()
    proc = home.serve(
        "--listen", f"127.0.0.1:{port}", env={"DRKIT_PAUSE_AT": "before-snapshot:300"}
    )
    try:
        wait_for(lambda: bool(list_runs(home.catalog(), kind="backup")), what="a backup")
        time.sleep(1)  # give a wrongly started second job the time to show
        # both policies share the repository: the second waits instead of meeting a lock
        assert len(list_runs(home.catalog(), kind="backup")) == 1
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            assert r.status == 200
    finally:
        code, stderr = stop(proc)
    assert code == 0, stderr
    assert "Traceback" not in stderr and "CancelledError" not in stderr, stderr
    (run,) = list_runs(home.catalog(), kind="backup")  # the queued one is no run
    assert run.status is RunStatus.INTERRUPTED
    result = home.drkit("serve", "--once").check()
    runs = list_runs(home.catalog(), kind="backup")
    finished = sorted((r.job or "", r.status, r.trigger) for r in runs if r.id != run.id)
    assert finished == [
        ("backup:app", RunStatus.SUCCEEDED, "catch-up"),
        ("backup:cache", RunStatus.SUCCEEDED, "catch-up"),
    ], result.stderr
    assert "job:" not in home.drkit("alerts", "--json").check().stdout  # no alert storm


def test_runs_left_running_by_a_killed_daemon_are_closed_at_the_next_start(
    home: DaemonHome,
) -> None:
    save_slot(home.catalog(), "backup:app", utcnow() - timedelta(days=1))
    proc = home.serve(env={"DRKIT_PAUSE_AT": "before-snapshot:300"})
    try:
        wait_for(lambda: bool(_backup_steps(proc.pid)), what="the backup step to start")
        steps = _backup_steps(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    # the step died with its daemon (SIGINT on parent death): it made no snapshot
    wait_for(lambda: not any(_alive(p) for p in steps), what="the orphaned step to end")
    assert home.drkit("--repo", "local", "snapshots", "--json").check().stdout.strip() == "[]"
    result = home.drkit("serve", "--once").check()
    first, again = sorted(list_runs(home.catalog(), kind="backup"), key=lambda r: r.id)
    assert first.status is RunStatus.INTERRUPTED, result.stderr
    assert "ended without finishing" in (first.error or "")
    # the interrupted job ran again at the next start, and only that run counts
    assert (again.status, again.trigger) == (RunStatus.SUCCEEDED, "catch-up"), result.stderr
    snapshots = home.drkit("--repo", "local", "snapshots", "--json").check().stdout
    assert snapshots.count('"id"') == 1


def _backup_steps(pid: int) -> list[int]:
    """Processes started by ``pid`` that run `drkit ... backup`."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            args = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"backup" in args:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_runs_and_runs_show_print_the_journal(home: DaemonHome) -> None:
    home.drkit("run-job", "backup:app").check()
    listing = home.drkit("runs").check().stdout
    assert "backup:app" in listing and "succeeded" in listing
    shown = home.drkit("runs", "show", "1").check().stdout
    assert "backup" in shown and "succeeded" in shown
    missing = home.drkit("runs", "show", "99")
    assert missing.returncode == 41
    assert "drkit runs" in missing.stderr


def test_a_bad_cron_expression_is_reported_at_its_line(home: DaemonHome) -> None:
    home.write_settings(policy=DEFAULT_BAD)
    result = home.drkit("jobs")
    assert result.returncode == 2
    assert "drkit.yaml:9" in result.stderr and "cron" in result.stderr


DEFAULT_BAD = """\
  app:
    sources: [{source}]
    repositories: [local]
    schedule: "every day at two"
"""


def test_alerts_naming_an_undefined_notifier_is_reported_at_its_line(home: DaemonHome) -> None:
    home.write_settings(extra="alerts:\n  notifiers: [ops-mail]\n")
    result = home.drkit("jobs")
    assert result.returncode == 2
    assert "drkit.yaml:14: alerts" in result.stderr and "ops-mail" in result.stderr


def test_the_daemon_picks_up_a_changed_drkit_yaml_and_survives_a_broken_one(
    home: DaemonHome,
) -> None:
    proc = home.serve()
    try:
        wait_for(lambda: "backup:app" in load_slots(home.catalog()), what="the first tick")
        home.write_settings(policy=DEFAULT_BAD)  # does not load: the daemon keeps running
        wait_for(lambda: "does not load" in _log_so_far(proc), what="the load error")
        second = DEFAULT_POLICY + DEFAULT_POLICY.replace("  app:", "  db:")
        home.write_settings(policy=second)
        wait_for(
            lambda: "backup:db" in load_slots(home.catalog()),
            timeout=120,
            what="the new policy's job",
        )
        assert proc.poll() is None
    finally:
        code, stderr = stop(proc)
    assert code == 0, stderr
    assert "does not load; keeping the running settings" in _seen_logs[proc.pid]


def _log_so_far(proc: subprocess.Popen[str]) -> str:
    """stderr of a running daemon read without blocking (the pipe is non-blocking)."""
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    os.set_blocking(fd, False)
    try:
        chunk = os.read(fd, 1 << 16).decode(errors="replace")
    except BlockingIOError:
        chunk = ""
    _seen_logs[proc.pid] = _seen_logs.get(proc.pid, "") + chunk
    return _seen_logs[proc.pid]


_seen_logs: dict[int, str] = {}


def test_a_taken_metrics_port_is_a_clear_error(home: DaemonHome) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = home.drkit("serve", "--listen", f"127.0.0.1:{port}", timeout=60)
    assert result.returncode == 2
    assert f"cannot serve /metrics on 127.0.0.1:{port}" in result.stderr
    assert "daemon.listen" in result.stderr and "Traceback" not in result.stderr


def test_sighup_reloads_drkit_yaml_at_once(home: DaemonHome) -> None:
    proc = home.serve()
    try:
        wait_for(lambda: "backup:app" in load_slots(home.catalog()), what="the first tick")
        stamp = os.stat(home.config)
        renamed = home.config.read_text().replace("  app:", "  apq:")  # same size ...
        home.config.write_text(renamed)
        os.utime(home.config, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # ... same mtime:
        time.sleep(12)  # the 10 s watcher alone cannot see the change
        assert "backup:apq" not in load_slots(home.catalog())
        proc.send_signal(signal.SIGHUP)  # SIGHUP reloads regardless
        wait_for(
            lambda: "backup:apq" in load_slots(home.catalog()),
            timeout=60,
            what="the renamed policy's job after SIGHUP",
        )
    finally:
        code, stderr = stop(proc)
    assert code == 0, stderr
    assert "received SIGHUP: reloading drkit.yaml" in stderr


def test_scratch_a_killed_restore_test_left_is_removed_at_the_next_start(
    home: DaemonHome,
) -> None:
    policy = DEFAULT_POLICY + (
        "    verification:\n      restore_test:\n        validate:\n          - [sleep, '300']\n"
    )
    home.write_settings(policy=policy)
    home.drkit("backup", "--policy", "app").check()
    scratch = home.root / "scratch"
    test = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drkit",
            "--repo",
            "local",
            "verify",
            "restore-test",
            "--policy",
            "app",
        ],
        env=home.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: any(scratch.glob("drkit-restore-test-*/**/a.txt")), what="restored data")
    finally:
        os.killpg(test.pid, signal.SIGKILL)  # no cleanup runs
        test.wait()
    (left,) = [p for p in scratch.iterdir() if p.is_dir()]
    assert any(left.rglob("a.txt"))
    result = home.drkit("serve", "--once").check()
    assert not left.exists(), result.stderr
    assert list(scratch.iterdir()) == []  # the owner file went too
