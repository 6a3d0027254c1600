"""Two `drkit serve` over one real PostgreSQL catalog and a real 3-member etcd.

The serves run as a user runs them (``drkit serve --name``); the job is a
backup every minute. Each scenario breaks the active serve or etcd and reads
the catalog to see who ran which slot: never two runs of one slot, and no
run at all while nobody can know who is active.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, RunView, get_run, list_runs
from drkit.catalog.types import utcnow
from drkit.controlplane.etcd import read_holder
from drkit.controlplane.marks import MARK_STEP
from drkit.scheduler.state import save_slot
from drkit.settings import load_settings
from drkit.settings.daemon import ControlPlaneSettings
from tests.fixtures.databases import (
    pg_create,
    pg_names_fixture,  # noqa: F401
)
from tests.fixtures.etcd import EtcdCluster
from tests.integration.daemon.conftest import DaemonHome, free_port, wait_for

JOB = "backup:app"


@dataclass
class Serve:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def health(self) -> str:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).text
        except httpx.HTTPError as exc:
            return f"unreachable: {exc}"

    def role(self) -> str:
        for line in self.health().splitlines():
            if line.startswith("control-plane: "):
                return line.split()[1]
        return "?"

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class TwoSites:
    home: DaemonHome
    url: str
    serves: list[Serve]
    etcd: list[str]

    def configure(self, policies: list[str]) -> None:
        """A backup every minute per policy, all in one repository; each ran long ago, so the
        first active serve catches them up (one after the other: they share the repository)."""
        home, endpoints = self.home, ", ".join(f'"{e}"' for e in self.etcd)
        every_minute = "".join(
            f"  {p}:\n    sources: [{home.source}]\n    repositories: [local]\n"
            '    schedule: "* * * * *"\n    rpo: 1d\n'
            for p in policies
        )
        home.config.write_text(
            f"catalog:\n  url: {self.url}\n"
            "repositories:\n"
            f"  local:\n    url: {home.root / 'repo'}\n    password_file: {home.root / 'pw'}\n"
            f"policies:\n{every_minute}"
            "daemon:\n  listen: ''\n  control_plane:\n"
            f"    cluster: {home.root.parent.name[-40:]}\n"
            f"    etcd: {{endpoints: [{endpoints}]}}\n"
            "    lease_ttl_s: 4\n    loop_interval_s: 0.5\n"
        )
        for policy in policies:
            save_slot(self.catalog(), f"backup:{policy}", utcnow() - timedelta(minutes=10))

    def catalog(self) -> Catalog:
        return Catalog.open(self.url)

    def start(self, name: str, **env: str) -> Serve:
        port = free_port()
        log = self.home.root / f"serve-{name}.log"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "drkit",
                "serve",
                "--name",
                name,
                "--listen",
                f"127.0.0.1:{port}",
            ],
            env={**self.home.env, **env},
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        serve = Serve(name, port, proc, log)
        self.serves.append(serve)
        return serve

    def control_plane(self) -> ControlPlaneSettings:
        cp = load_settings(self.home.config).daemon.control_plane
        assert cp is not None
        return cp

    def runs(self) -> list[RunView]:
        return sorted(list_runs(self.catalog(), kind="backup"), key=lambda r: r.id)

    def finished(self) -> list[RunView]:
        return [r for r in self.runs() if r.status is not RunStatus.RUNNING]

    def by_slot(self) -> dict[tuple[str | None, datetime | None], list[int | None]]:
        """(job, slot) -> the pids of the serves that ran it."""
        slots: dict[tuple[str | None, datetime | None], list[int | None]] = {}
        for run in self.runs():
            slots.setdefault((run.job, run.scheduled_for), []).append(_pid(self.catalog(), run.id))
        return slots

    def ran(self, job: str, **where: object) -> bool:
        return any(
            r.job == job
            and r.status is RunStatus.SUCCEEDED
            and all(getattr(r, k) == v for k, v in where.items())
            for r in self.runs()
        )


def _runs_by_slot(sites: TwoSites) -> dict[tuple[str | None, datetime | None], list[RunView]]:
    """(job, slot) -> its runs, oldest first."""
    slots: dict[tuple[str | None, datetime | None], list[RunView]] = {}
    for run in sites.runs():
        slots.setdefault((run.job, run.scheduled_for), []).append(run)
    return slots


def _pid(catalog: Catalog, run_id: int) -> int | None:
    from drkit.catalog.tables import RunRow

    with catalog.session() as session:
        return session.get_one(RunRow, run_id).pid


@pytest.fixture
def sites(home: DaemonHome, etcd: EtcdCluster, pg_names: Callable[[], str]) -> Iterator[TwoSites]:
    url = pg_create(pg_names()).replace("postgresql://", "postgresql+psycopg://")
    two = TwoSites(home, url, [], etcd.endpoints)
    two.configure(["app"])
    try:
        yield two
    finally:
        for serve in two.serves:
            if serve.proc.poll() is None:
                serve.proc.send_signal(signal.SIGCONT)
                serve.proc.terminate()
                try:
                    serve.proc.wait(60)
                except subprocess.TimeoutExpired:
                    serve.proc.kill()
                    serve.proc.wait()


def wait_role(serve: Serve, role: str, timeout: float = 60) -> None:
    wait_for(lambda: serve.role() == role, timeout, f"{serve.name} {role}: {serve.health()}")


def start_pair(sites: TwoSites, **east_env: str) -> tuple[Serve, Serve]:
    east = sites.start("east", **east_env)
    wait_role(east, "active")
    west = sites.start("west")
    wait_role(west, "standby")
    assert "east is active" in west.health()
    return east, west


def next_minute() -> datetime:
    now = utcnow()
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def test_the_standby_takes_over_when_the_active_dies_and_runs_the_next_slot(
    sites: TwoSites,
) -> None:
    east, west = start_pair(sites)
    wait_for(lambda: bool(sites.finished()), what="east's catch-up backup")
    first = sites.runs()[0]  # (a minute may pass: east runs that one too)
    assert (first.status, first.trigger) == (RunStatus.SUCCEEDED, "catch-up")
    assert sites.by_slot()[(JOB, first.scheduled_for)] == [east.proc.pid]
    metrics = west.metrics()
    assert 'drkit_control_plane_role{role="standby",serve="west"} 1.0' in metrics
    assert 'drkit_control_plane_lease_holder{holder="east",serve="west"} 1.0' in metrics
    assert 'drkit_control_plane_etcd_up{serve="west"} 1.0' in metrics
    assert 'drkit_control_plane_role{role="active",serve="east"} 1.0' in east.metrics()
    status = sites.home.drkit("status").check().stdout
    assert "control plane" in status and "east is active" in status, status

    east.proc.kill()  # the site is lost: no release, the lease must expire
    east.proc.wait()
    wait_role(west, "active")  # once east's lease expired
    slot = next_minute()
    wait_for(
        lambda: sites.ran(JOB, scheduled_for=slot),
        timeout=120,
        what=f"west's backup of the {slot:%H:%M} slot",
    )
    assert sites.by_slot()[(JOB, slot)] == [west.proc.pid]
    # No slot succeeded twice. A slot east was running when it was killed runs again on
    # west (an interrupted run catches up), but only after east's attempt did not succeed.
    for key, runs in _runs_by_slot(sites).items():
        assert [r.status for r in runs].count(RunStatus.SUCCEEDED) <= 1, (key, runs)
        assert all(r.status is not RunStatus.SUCCEEDED for r in runs[:-1]), (key, runs)
    assert "control plane: active: took the lease" in west.logs()


def test_an_active_frozen_past_its_lease_wakes_as_standby_and_runs_nothing_twice(
    sites: TwoSites,
) -> None:
    sites.configure(["app", "cache"])
    # east's catch-up of app pauses 40 s before its snapshot (still running when east wakes);
    # the catch-up of cache waits in east's queue: both use one repository
    east, west = start_pair(sites, DRKIT_PAUSE_AT="before-snapshot:40")
    wait_for(lambda: bool(sites.runs()), what="east's catch-up backup to start")
    (app,) = sites.runs()
    assert app.job == "backup:app"
    east.proc.send_signal(signal.SIGSTOP)
    wait_role(west, "active")  # east's lease expired: west takes the schedules over
    wait_for(
        lambda: any(
            r.job == "backup:cache" and r.status is RunStatus.SUCCEEDED for r in sites.runs()
        ),
        what="west's catch-up of cache",
    )
    east.proc.send_signal(signal.SIGCONT)  # east's queue still holds cache's catch-up
    wait_role(east, "standby")
    assert "lost the lease: west is active" in east.health()
    wait_for(lambda: "this serve is no longer active" in east.logs(), what="east to drop cache")
    assert "backup:cache: not starting: this serve is no longer active" in east.logs()
    # east's run outlived its lease: it goes on and its journal says so
    wait_for(
        lambda: get_run(sites.catalog(), app.id).status is not RunStatus.RUNNING,
        what="east's paused backup to end",
    )
    steps = get_run(sites.catalog(), app.id).steps
    (mark,) = [s for s in steps if s.name == MARK_STEP]
    assert "east stopped being active" in (mark.output or "")
    assert get_run(sites.catalog(), app.id).status is RunStatus.SUCCEEDED
    runs = [(r.job, _pid(sites.catalog(), r.id)) for r in sites.runs() if r.trigger == "catch-up"]
    assert sorted(runs) == [("backup:app", east.proc.pid), ("backup:cache", west.proc.pid)], (
        runs,
        west.logs(),
    )
    assert all(len(pids) == 1 for pids in sites.by_slot().values()), sites.by_slot()
    assert east.role() == "standby" and west.role() == "active"


def test_a_serve_frozen_between_deciding_and_claiming_loses_the_slot_to_the_new_active(
    sites: TwoSites,
) -> None:
    # east decides the catch-up is due while active, then freezes before it claims the slot
    east = sites.start("east", DRKIT_PAUSE_AT="before-slot-claim:stop")
    wait_for(lambda: _state(east.proc.pid) == "T", what="east to freeze before its claim")
    assert not sites.runs()
    west = sites.start("west")
    wait_role(west, "active")
    wait_for(lambda: bool(sites.finished()), what="west's catch-up backup")
    (run,) = sites.runs()
    east.proc.send_signal(signal.SIGCONT)  # east goes on where it froze: at the claim
    wait_for(
        lambda: "west claimed" in east.logs() or len(sites.runs()) > 1,
        what="east to lose the claim",
    )
    wait_role(east, "standby")
    # the same slot ("claimed it already"), or, when a minute passed while east was frozen,
    # west's catch-up claimed the newer slot and east's decision is stale
    assert "backup:app: not starting the" in east.logs()
    by_slot = sites.by_slot()  # (west may have run a newer minute since: still only west)
    assert by_slot[(JOB, run.scheduled_for)] == [west.proc.pid]
    assert all(pids == [west.proc.pid] for pids in by_slot.values()), by_slot


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def test_without_etcd_no_serve_runs_a_scheduled_job_and_both_say_why(
    sites: TwoSites, etcd: EtcdCluster
) -> None:
    east, west = start_pair(sites)
    wait_for(lambda: bool(sites.finished()), what="east's catch-up backup")
    for member in etcd.members[1:]:
        member.kill()  # one member of three left: no quorum, no answer
    wait_role(east, "fenced", timeout=30)
    wait_role(west, "fenced", timeout=30)
    before = len(sites.runs())
    assert "cannot renew the lease" in east.health()
    assert "etcd unreachable" in west.health()
    missed = next_minute()
    while utcnow() < missed + timedelta(seconds=8):  # the slot passes, with time to start
        time.sleep(0.5)
    assert len(sites.runs()) == before
    assert east.role() == "fenced" and west.role() == "fenced"
    assert 'drkit_control_plane_etcd_up{serve="east"} 0.0' in east.metrics()
    assert 'drkit_control_plane_lease_trusted_seconds{serve="east"} 0.0' in east.metrics()
    assert "control plane: fenced: cannot renew the lease" in east.logs()
    assert "control plane: fenced: etcd unreachable" in west.logs()
    status = sites.home.drkit("status").check().stdout
    assert "unknown: etcd did not answer" in status, status

    for member in etcd.members:
        member.start()
    etcd.wait_healthy()
    # etcd back: one serve is active again and catches the missed slot up, once
    wait_for(
        lambda: any(
            r.scheduled_for is not None and r.scheduled_for >= missed for r in sites.runs()
        ),
        timeout=60,
        what="the missed slot to be caught up",
    )
    wait_for(  # the members just came back: a cycle may still time out while they settle
        lambda: sorted([east.role(), west.role()]) == ["active", "standby"],
        timeout=30,
        what=f"one active, one standby: {east.health()} {west.health()}",
    )
    assert all(len(pids) == 1 for pids in sites.by_slot().values()), sites.by_slot()


def test_serve_once_runs_only_with_the_lease_and_gives_it_back(sites: TwoSites) -> None:
    east = sites.start("east")
    wait_role(east, "active")
    wait_for(lambda: bool(sites.finished()), what="east's catch-up backup")
    refused = sites.home.drkit("serve", "--once", "--name", "west").check()
    assert "not running jobs: control plane standby: east is active" in refused.stdout
    assert {pid for pids in sites.by_slot().values() for pid in pids} == {east.proc.pid}
    stop_serve(east)
    sites.configure(["app", "cache"])  # a second job, due since long ago
    done = sites.home.drkit("serve", "--once", "--name", "west").check()
    cache = [r.trigger for r in sites.finished() if r.job == "backup:cache"]
    assert cache == ["catch-up"], done.stderr
    assert read_holder(sites.control_plane()).holder is None  # west gave the lease back


def stop_serve(serve: Serve) -> None:
    serve.proc.terminate()
    assert serve.proc.wait(60) == 0, serve.logs()
