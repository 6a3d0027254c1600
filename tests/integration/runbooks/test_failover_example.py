"""The seed's failover runbook (examples/runbooks/failover.yaml), end to end, as a user runs it.

Real parts on loopback: a PostgreSQL 15 primary (127.0.0.2) and its streaming
replica (127.0.0.3), Knot DNS taking TSIG-signed updates for failover.test,
the app server of tests/fixtures/app_server.py (it finds its database through
that DNS server), and a webhook receiver. The primary is crashed, then
``drkit runbook run failover`` runs in a child process with the example file
exactly as shipped; every step's outcome is checked on the parts themselves,
and the journal's timings in the catalog.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from drkit.catalog import Catalog, default_catalog_url
from drkit.catalog.runs import RunStatus, RunView, StepStatus, get_run
from tests.fixtures.ha import (
    APP_SERVER,
    KnotServer,
    PgPair,
    free_port,
)
from tests.fixtures.ha_context import run_action
from tests.fixtures.receivers import HttpReceiver

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "runbooks"
RTO_S = 5 * 60  # the example's `rto: 5m`
APPS = ("app-west-1", "app-west-2", "app-west-3")
MAIN_STEPS = ("detect", "data-at-risk", "promote", "dns", "start-apps", "verify", "notify")

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Site:
    """Everything the test built, and how to run drkit against it."""

    pair: PgPair
    dns: KnotServer
    receiver: HttpReceiver
    inputs: dict[str, str]
    app_ports: tuple[int, ...]
    run_dir: Path
    config: Path
    env: dict[str, str]

    def drkit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "drkit", "--config", str(self.config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def run_failover(self, *extra: str) -> subprocess.CompletedProcess[str]:
        given = [arg for key, value in self.inputs.items() for arg in ("--input", f"{key}={value}")]
        return self.drkit("runbook", "run", "failover", *given, *extra)

    def journal(self, run_id: int) -> RunView:
        catalog = Catalog.open(default_catalog_url(Path(self.env["DRKIT_HOME"])))
        try:
            return get_run(catalog, run_id)
        finally:
            catalog.close()


def _settings(path: Path, receiver: HttpReceiver) -> Path:
    path.write_text(
        "version: 1\n"
        f"runbooks: {{dir: {EXAMPLES}}}\n"
        f"notifiers:\n  oncall: {{type: webhook, url: '{receiver.url()}'}}\n"
    )
    return path


@pytest.fixture
def site(
    pg_pair: PgPair,
    knot: KnotServer,
    http_receiver: HttpReceiver,
    drkit_env: dict[str, str],
    tmp_path: Path,
) -> Iterator[Site]:
    ports = tuple(free_port("127.0.0.1") for _ in APPS)
    run_dir = tmp_path / "run"
    inputs = {
        "primary_db_host": pg_pair.primary.host,
        "replica_db_host": pg_pair.replica.host,
        "db_port": str(pg_pair.port),
        "detect_probes": "2",
        "detect_interval": "0.2",
        "dns_server": knot.host,
        "dns_port": str(knot.port),
        "zone": knot.zone,
        "db_record": "db",
        "tsig_key_name": knot.key_name,
        "tsig_secret_file": str(knot.secret_file),
        "app_python": sys.executable,
        "app_script": str(APP_SERVER),
        "app_host": "127.0.0.1",
        **{f"app{i}_port": str(port) for i, port in enumerate(ports, start=1)},
        "run_dir": str(run_dir),
        "notifier": "oncall",
    }
    config = _settings(tmp_path / "drkit.yaml", http_receiver)
    yield Site(pg_pair, knot, http_receiver, inputs, ports, run_dir, config, drkit_env)
    for app in APPS:  # whatever the runbook started is stopped by its pid file
        run_action("process.stop", pidfile=str(run_dir / f"{app}.pid"), timeout_s=5)


def _orders(pair: PgPair) -> None:
    """Business data written on the primary and streamed to the replica before the crash."""
    pair.primary.query("create table orders (id int primary key, item text)")
    pair.primary.query("insert into orders select n, 'order ' || n from generate_series(1, 100) n")
    pair.wait_replicated()


def _health(port: int) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)


def _by_step(view: RunView) -> dict[str, dict[str, object]]:
    """Step id -> the details the runbook journal wrote for it (outputs, action, ...)."""
    return {str(step.details.get("step", step.name)): step.details for step in view.steps}


def test_failover_runs_end_to_end_within_its_rto(site: Site) -> None:
    _orders(site.pair)
    site.pair.primary.stop("immediate")  # the primary region is lost

    done = site.run_failover("--json")
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    report = json.loads(done.stdout)
    assert report["status"] == "succeeded"

    # promote: the replica is the primary now, holds the data, and accepts writes
    replica = site.pair.replica
    assert not replica.in_recovery()
    replica.query("insert into orders values (101, 'after failover')")
    assert replica.query("select count(*) from orders") == [(101,)]

    # dns: the authoritative server answers with the new primary
    assert site.dns.query("db") == {replica.host}

    # start-apps / verify: every secondary app answers, through DNS, from a writable database
    for app, port in zip(APPS, site.app_ports, strict=True):
        answer = _health(port)
        assert answer.status_code == 200
        assert answer.json() == {"name": app, "db_host": replica.host, "db_writable": True}
        assert (site.run_dir / f"{app}.pid").exists()

    # notify: the webhook got one critical notification naming the new primary
    (hook,) = site.receiver.wait_for(1)
    payload = hook.json()
    assert payload["severity"] == "critical"
    assert payload["summary"] == f"Failover to us-west done: db.failover.test -> {replica.host}"
    assert payload["details"]["dns_previous"] == site.pair.primary.host
    assert payload["details"]["timeline"] == "2"
    assert payload["details"]["last_replayed_transaction"] != "unknown"

    view = site.journal(int(report["run_id"]))
    assert view.subject_version == report["version"]  # the run records the version it ran
    _check_journal(view)


def _check_journal(view: RunView) -> None:
    """Every step journaled with start, end and duration; the whole run within the RTO."""
    assert view.status is RunStatus.SUCCEEDED
    assert view.kind == "runbook" and view.subject == "failover"
    steps = _by_step(view)
    assert set(MAIN_STEPS + APPS) | {f"verify-{app}" for app in APPS} <= set(steps)
    for step in view.steps:
        assert step.status is StepStatus.SUCCEEDED, (step.name, step.error)
        assert step.finished_at is not None and step.duration_s is not None
        assert step.started_at <= step.finished_at
        measured = (step.finished_at - step.started_at).total_seconds()
        assert step.duration_s == pytest.approx(measured, abs=0.01)
        assert view.started_at <= step.started_at and step.finished_at <= view.finished_at  # type: ignore[operator]
    assert view.duration_s is not None and view.duration_s <= RTO_S

    outputs = {name: details.get("outputs", {}) for name, details in steps.items()}
    assert outputs["detect"]["state"] == "unreachable"  # type: ignore[index]
    assert outputs["promote"]["promoted"] == "true"  # type: ignore[index]
    assert outputs["dns"] == {"previous": "127.0.0.2", "current": "127.0.0.3", "changed": "true"}


def test_a_dry_run_changes_nothing(site: Site) -> None:
    site.pair.primary.stop("immediate")

    done = site.run_failover("--dry-run")
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    # it says what each step would do ...
    for line in (
        f"confirm the PostgreSQL primary at 127.0.0.2:{site.pair.port} is down",
        f"promote the PostgreSQL replica at 127.0.0.3:{site.pair.port} with pg_promote()",
        "set db A in zone failover.test to 127.0.0.3 if it is 127.0.0.2",
        "start app-west-1",
    ):
        assert line in done.stdout, done.stdout
    # ... and does none of it
    assert not site.pair.primary.reachable()
    assert site.pair.replica.in_recovery()
    assert site.dns.query("db") == {site.pair.primary.host}
    assert not site.run_dir.exists()
    for port in site.app_ports:
        with pytest.raises(httpx.ConnectError):
            _health(port)
    assert site.receiver.requests == []


def test_a_healthy_primary_stops_the_runbook_before_any_change(site: Site) -> None:
    done = site.run_failover("--json")
    assert done.returncode == 61, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert "not failing over" in done.stdout + done.stderr
    assert site.pair.replica.in_recovery()
    assert site.dns.query("db") == {site.pair.primary.host}
    assert not site.run_dir.exists()
    assert site.receiver.requests == []
