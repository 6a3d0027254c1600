"""Built-in actions against real servers: http (http.server), tcp, sql (PostgreSQL, MariaDB),
wait_until, notify (a local webhook receiver) and shell outputs, run by the runner."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, get_run
from drkit.runbooks.loader import parse_runbook
from drkit.runbooks.service import RunReport, RunRequest, start_run
from drkit.settings.model import Settings
from tests.fixtures.databases import (
    mariadb_names_fixture,  # noqa: F401  (provides `mariadb_names`)
    my_exec,
    my_url,
    pg_create,
    pg_dsn,
    pg_exec,
    pg_names_fixture,  # noqa: F401  (provides `pg_names`)
)
from tests.fixtures.receivers.http_server import HttpReceiver, Reply


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.close()


def _run(catalog: Catalog, text: str, settings: Settings | None = None) -> RunReport:
    book = parse_runbook(text, Path("t.yaml")).runbook
    return start_run(catalog, book, settings or Settings(), RunRequest(poll_s=0.05))


def _steps(catalog: Catalog, report: RunReport) -> dict[str, object]:
    return {s.name: s for s in get_run(catalog, report.run_id).steps}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_http_checks_status_body_and_json_and_extracts_values(
    catalog: Catalog, http_receiver: HttpReceiver
) -> None:
    body = json.dumps({"status": "up", "version": "2.4.1", "checks": [{"ok": True}]}).encode()
    http_receiver.reply_with(Reply(200, body, "application/json"))
    report = _run(
        catalog,
        f"""
name: http
steps:
  - id: health
    action: http
    with:
      url: {http_receiver.url("/health")}
      expect_status: [200]
      body_regex: '"status": "up"'
      json: {{"$.status": up, "$.checks[0].ok": "true"}}
      extract: {{version: "$.version"}}
  - id: post
    action: http
    with:
      url: "{http_receiver.url("/deploy")}?v=${{{{ steps.health.outputs.version }}}}"
      method: POST
      json_body: {{release: "${{{{ steps.health.outputs.version }}}}"}}
  - id: wrong
    action: http
    with: {{url: {http_receiver.url("/x")}, json: {{"$.status": down}}}}
    on_failure: continue
""",
    )
    steps = _steps(catalog, report)
    assert report.status is RunStatus.SUCCEEDED
    assert steps["health"].details["outputs"]["version"] == "2.4.1"  # type: ignore[attr-defined]
    posted = http_receiver.requests[1]
    assert (posted.method, posted.path) == ("POST", "/deploy?v=2.4.1")
    assert posted.json() == {"release": "2.4.1"}
    assert steps["wrong"].error == f"$.status of {http_receiver.url('/x')} is 'up', expected 'down'"  # type: ignore[attr-defined]


def test_http_fails_on_an_unexpected_status(catalog: Catalog, http_receiver: HttpReceiver) -> None:
    http_receiver.fail(times=1, status=503, body=b"down for maintenance")
    report = _run(
        catalog,
        f"name: h\nsteps: [{{id: h, action: http, with: {{url: {http_receiver.url()}}}}}]\n",
    )
    assert report.status is RunStatus.FAILED
    assert report.error is not None and "answered 503: 'down for maintenance'" in report.error


def test_tcp_sees_open_and_closed_ports(catalog: Catalog) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        closed = _closed_port()
        report = _run(
            catalog,
            f"""
name: tcp
steps:
  - {{id: up, action: tcp, with: {{host: 127.0.0.1, port: {port}}}}}
  - {{id: down, action: tcp, with: {{host: 127.0.0.1, port: {closed}, expect: closed}}}}
  - {{id: seen, action: tcp, with: {{host: 127.0.0.1, port: {closed}, expect: any}}}}
  - id: branch
    action: shell
    with: {{command: "echo primary is down"}}
    when: "steps.seen.outputs.open == 'false'"
  - {{id: must-be-open, action: tcp, with: {{host: 127.0.0.1, port: {closed}, timeout: 2}}}}
""",
        )
    steps = _steps(catalog, report)
    assert steps["up"].details["outputs"]["open"] == "true"  # type: ignore[attr-defined]
    assert steps["branch"].status.value == "succeeded"  # type: ignore[attr-defined]
    assert report.failed_step == "must-be-open"
    assert f"cannot connect to 127.0.0.1:{closed}" in (report.error or "")


def test_sql_on_postgresql_reads_writes_and_checks(
    catalog: Catalog, pg_names: Callable[[], str]
) -> None:
    name = pg_names()
    pg_create(name)
    dsn = pg_dsn(name)
    pg_exec(dsn, "create table marks (id serial primary key, note text)")
    report = _run(
        catalog,
        f"""
name: sql
steps:
  - id: primary
    action: sql
    with: {{dsn: "{dsn}", query: "select pg_is_in_recovery()", expect: {{value: "false"}}}}
  - id: write
    action: sql
    with: {{dsn: "{dsn}", query: "insert into marks (note) values ('drill') returning id"}}
  - id: count
    action: sql
    with:
      dsn: "{dsn}"
      query: "select count(*) from marks where id = ${{{{ steps.write.outputs.value }}}}"
      expect: {{value: "1", rows: 1}}
  - id: wrong
    action: sql
    with: {{dsn: "{dsn}", query: "select 'replica'", expect: {{regex: "^primary$"}}}}
    on_failure: continue
  - id: broken
    action: sql
    with: {{dsn: "{dsn}", query: "select * from missing_table", timeout: 5}}
    on_failure: continue
""",
    )
    steps = _steps(catalog, report)
    assert report.status is RunStatus.SUCCEEDED
    assert steps["write"].details["outputs"] == {"value": "1", "rows": "1"}  # type: ignore[attr-defined]
    assert "does not match '^primary$'" in (steps["wrong"].error or "")  # type: ignore[attr-defined]
    assert "UndefinedTable" in (steps["broken"].error or "")  # type: ignore[attr-defined]


def test_sql_on_mariadb(catalog: Catalog, mariadb_names: Callable[[], str]) -> None:
    name = mariadb_names()
    my_exec(None, f"create database `{name}`")
    my_exec(name, "create table t (v int)", "insert into t values (41), (1)")
    url = my_url(name)
    report = _run(
        catalog,
        f"""
name: maria
steps:
  - id: sum
    action: sql
    with: {{dsn: "{url}", query: "select sum(v) from t", expect: {{value: "42"}}}}
""",
    )
    assert report.status is RunStatus.SUCCEEDED, report.error


def test_wait_until_polls_a_check_until_it_passes(
    catalog: Catalog, http_receiver: HttpReceiver
) -> None:
    http_receiver.fail(times=3, status=503)
    report = _run(
        catalog,
        f"""
name: wait
steps:
  - id: ready
    action: wait_until
    with:
      check: {{action: http, with: {{url: {http_receiver.url("/ready")}}}}}
      interval: 0.05
      timeout: 20
""",
    )
    assert report.status is RunStatus.SUCCEEDED
    outputs = _steps(catalog, report)["ready"].details["outputs"]  # type: ignore[attr-defined]
    assert outputs["attempts"] == "4" and outputs["status"] == "200"
    assert len(http_receiver.requests) == 4


def test_wait_until_gives_up_with_the_last_problem(catalog: Catalog) -> None:
    port = _closed_port()
    report = _run(
        catalog,
        f"""
name: wait2
steps:
  - id: ready
    action: wait_until
    with:
      check: {{action: tcp, with: {{host: 127.0.0.1, port: {port}}}}}
      interval: 0.05
      timeout: 0.3
""",
    )
    assert report.status is RunStatus.FAILED
    assert "tcp did not pass within 0.3s" in (report.error or "")
    assert f"cannot connect to 127.0.0.1:{port}" in (report.error or "")


def test_notify_goes_through_the_configured_webhook(
    catalog: Catalog, http_receiver: HttpReceiver
) -> None:
    settings = Settings.model_validate(
        {"notifiers": {"ops": {"type": "webhook", "url": http_receiver.url("/hook")}}}
    )
    report = _run(
        catalog,
        """
name: tell
inputs: {site: {default: b}}
steps:
  - {id: promote, action: shell, with: {command: "echo lsn=0/3000 >> $DRKIT_OUTPUT"}}
  - id: tell
    action: notify
    with:
      summary: "Failover to ${{ inputs.site }} done"
      severity: warning
      details: {lsn: "${{ steps.promote.outputs.lsn }}"}
""",
        settings,
    )
    assert report.status is RunStatus.SUCCEEDED, report.error
    (request,) = http_receiver.wait_for(1)
    payload = request.json()
    assert payload["summary"] == "Failover to b done" and payload["severity"] == "warning"
    assert payload["details"] == {"lsn": "0/3000"}
    assert _steps(catalog, report)["tell"].details["outputs"] == {"sent_to": "ops"}  # type: ignore[attr-defined]


def test_notify_fails_the_step_when_the_receiver_refuses(
    catalog: Catalog, http_receiver: HttpReceiver
) -> None:
    http_receiver.reply_with(Reply(400, b"bad"))
    settings = Settings.model_validate(
        {"notifiers": {"ops": {"type": "webhook", "url": http_receiver.url("/hook")}}}
    )
    report = _run(
        catalog, "name: n\nsteps: [{id: n, action: notify, with: {summary: hi}}]\n", settings
    )
    assert report.status is RunStatus.FAILED
    assert "not delivered to ops" in (report.error or "")


def test_a_shell_step_past_its_timeout_is_killed_with_its_children(
    catalog: Catalog, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    report = _run(
        catalog,
        f"""
name: slow
steps:
  - id: slow
    action: shell
    with: {{command: "sleep 60 & echo $! > {pid_file}; wait"}}
    timeout: 0.5
""",
    )
    assert report.error is not None and "timed out after 0.5s" in report.error
    pid = int(pid_file.read_text())
    done = threading.Event()

    def gone() -> bool:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().split()[2] == "Z"
        except FileNotFoundError:
            return True

    for _ in range(100):
        if gone():
            done.set()
            break
        threading.Event().wait(0.05)
    assert done.is_set(), "the background sleep outlived its step"
