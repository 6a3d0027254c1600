"""Restores, restore tests, drills and per-source backups started through the API, and a
runbook run cancelled and resumed through it: 202 with the run's URL, and the finished
run did the work (the restored bytes, a damaged snapshot failing) with the CLI's --json.

A real drkit home served by a real uvicorn; the CLI runs in a subprocess.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from drkit.services.workspace import Workspace
from tests.fixtures.damage import Backup
from tests.integration.api.conftest import Api, add_callers, make_home, serving
from tests.integration.api.test_launch import finished

SETTINGS = """\
home: {root}
repositories:
  local:
    url: {root}/repo
    password_file: {root}/pw
    media: disk
    site: office
  damaged:
    url: {root}/damaged
    password_file: {root}/pw
    media: disk
    site: office
policies:
  app:
    sources: [{root}/src]
    repositories: [local]
    rto: 1h
  two:
    sources: [{root}/other, {{type: sqlite, path: {root}/app.db}}]
    repositories: [local]
  broken:
    sources: [{root}/bsrc]
    repositories: [damaged]
    rto: 1h
runbooks:
  drills:
    - {{runbook: api-drilled, schedule: "0 3 * * *", inputs: {{code: "0"}}}}
daemon:
  listen: ''
"""

DRILLED = """\
name: api-drilled
rto: 1h
inputs:
  code: {{description: "exit status"}}
steps:
  - id: restore
    action: shell
    with: {{command: "exit ${{{{ inputs.code }}}}"}}
"""

SLEEPER = """\
name: api-sleeper
steps:
  - id: wait
    action: shell
    with: {{command: "test -f {root}/go || sleep 120"}}
  - id: after
    action: shell
    with: {{command: "echo after > {root}/after.txt"}}
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("restores") / "home"
    env = make_home(root)
    (root / "drkit.yaml").write_text(SETTINGS.format(root=root))
    (root / "src" / "big.bin").write_bytes(bytes(range(256)) * 4096)
    (root / "other").mkdir()
    (root / "other" / "b.txt").write_text("beta\n")
    with sqlite3.connect(root / "app.db") as db:
        db.execute("create table t (v text)")
        db.execute("insert into t values ('gamma')")
    (root / "bsrc").mkdir()
    (root / "bsrc" / "data.bin").write_bytes(bytes(reversed(range(256))) * 4096)
    setup = Api(root, env, "", Workspace(config=root / "drkit.yaml"))
    for name in ("local", "damaged"):
        setup.drkit("--repo", name, "init").check()
    setup.drkit("backup", "--policy", "app").check()
    broken = json.loads(setup.drkit("backup", "--policy", "broken", "--json").check().stdout)
    damaged = Backup(root / "damaged", root / "bsrc", broken["snapshot"], "api test passphrase")
    damaged.damage_blob(damaged.node("data.bin").content[-1])
    setup.tokens = add_callers(setup.catalog())
    try:
        with serving(setup) as served:
            yield served
    finally:
        setup.workspace.close()


def _post(api: Api, caller: str, path: str, body: Any = None) -> httpx.Response:
    with api.client(caller) as c:
        return c.post(path, json=body)


def _started(api: Api, path: str, body: Any = None, caller: str = "operator") -> dict[str, Any]:
    """POST ``path``, check the 202 and its URL; the run once it ended."""
    r = _post(api, caller, path, body)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == r.json()["url"]
    return finished(api, r.json()["url"])


def _problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    doc: dict[str, Any] = r.json()
    assert doc["code"] == code and doc["detail"], doc
    return doc


def test_a_restore_writes_the_snapshots_bytes_and_holds_the_clis_json(home: Api) -> None:
    src = home.root / "src"
    target = home.root / "out-api"
    run = _started(
        home,
        "/api/repositories/local/restore",
        {"snapshot": "latest", "policy": "app", "target": str(target)},
    )
    assert run["status"] == "succeeded", run
    assert run["kind"] == "restore"
    restored = target / str(src).lstrip("/")
    assert (restored / "big.bin").read_bytes() == (src / "big.bin").read_bytes()
    assert (restored / "a.txt").read_text() == "alpha\n"
    cli = home.cli_json(
        "--repo", "local", "restore", "latest", "--policy", "app",
        "--target", str(home.root / "out-cli"),
    )  # fmt: skip
    assert run["result"] == cli
    assert cli["files"] == 2 and cli["failed"] == {}


def test_a_restore_with_an_include_restores_only_that_path(home: Api) -> None:
    src = home.root / "src"
    target = home.root / "out-include"
    body = {"policy": "app", "target": str(target), "include": [str(src / "a.txt")]}
    run = _started(home, "/api/repositories/local/restore", body)
    assert run["status"] == "succeeded", run
    restored = target / str(src).lstrip("/")
    assert (restored / "a.txt").read_text() == "alpha\n"
    assert not (restored / "big.bin").exists()
    assert run["result"]["files"] == 1


def test_a_restore_of_a_damaged_snapshot_fails_and_says_so(home: Api) -> None:
    run = _started(
        home,
        "/api/repositories/damaged/restore",
        {"policy": "broken", "target": str(home.root / "out-damaged")},
    )
    assert run["status"] == "failed", run
    assert run["result"]["error"]["code"] == "incomplete"
    assert run["result"]["failed"], run["result"]  # the damaged file, named


def test_bad_restores_are_refused_before_a_run_starts(home: Api) -> None:
    full = home.root / "full"
    full.mkdir()
    (full / "x").write_text("x")
    path = "/api/repositories/local/restore"
    before = len(home.get("/api/runs", "viewer", params={"kind": "restore"}).json())
    _problem(_post(home, "operator", path, {"target": str(full)}), 400, "usage")
    _problem(_post(home, "operator", path, {"target": "relative/dir"}), 400, "usage")
    doc = _problem(
        _post(home, "operator", "/api/repositories/nowhere/restore", {"target": "/tmp/x"}),
        400,
        "usage",
    )
    assert "local" in doc["hint"]
    _problem(_post(home, "operator", path, {}), 422, "invalid-request")
    _problem(_post(home, "viewer", path, {"target": str(home.root / "v")}), 403, "not-permitted")
    assert len(home.get("/api/runs", "viewer", params={"kind": "restore"}).json()) == before


def test_a_restore_test_passes_journals_its_steps_and_holds_the_clis_json(home: Api) -> None:
    run = _started(home, "/api/policies/app/restore-test")
    assert run["status"] == "succeeded", run
    assert run["result"]["passed"] is True
    assert run["result"]["files"] == 2
    names = [s["name"] for s in run["steps"]]
    assert "restore test: restore" in names
    assert all(s["status"] == "succeeded" for s in run["steps"])
    cli = home.cli_json("--repo", "local", "verify", "restore-test", "--policy", "app")
    assert set(run["result"]) == set(cli)
    assert run["result"]["snapshot"] == cli["snapshot"]


def test_a_restore_test_of_a_damaged_snapshot_ends_failed_never_ok(home: Api) -> None:
    run = _started(home, "/api/policies/broken/restore-test")
    assert run["status"] == "failed", run
    assert run["result"]["passed"] is False
    assert run["result"]["error"]["code"] == "restore-test-failed"
    assert any(s["status"] == "failed" for s in run["steps"])
    series = [
        r for r in home.get("/api/drills", "viewer").json()["restores"] if r["policy"] == "broken"
    ]
    assert series and series[0]["times"][0]["ok"] is False


def _labels(home: Api, policy: str) -> list[str]:
    labels: list[str] = home.get(f"/api/policies/{policy}", "viewer").json()["sources"]
    return labels


def test_a_restore_test_names_one_source_of_a_policy_with_several(home: Api) -> None:
    other, database = _labels(home, "two")
    doc = _problem(_post(home, "operator", "/api/policies/two/restore-test"), 400, "usage")
    assert database in doc["hint"] and other in doc["hint"]
    _problem(
        _post(home, "operator", "/api/policies/two/restore-test", {"source": "/nope"}), 400, "usage"
    )
    _problem(
        _post(home, "operator", "/api/policies/app/restore-test", {"repository": "damaged"}),
        400,
        "usage",
    )
    # each source's newest snapshot is its own: back up one, then prove each
    backed = _started(home, "/api/policies/two/backup", {"source": database})
    assert backed["status"] == "succeeded", backed
    assert "paths" not in backed["result"]  # the database only, no file snapshot
    (db_snapshot,) = [d["snapshot"] for d in backed["result"]["databases"]]
    files = _started(home, "/api/policies/two/backup", {"source": other})
    run = _started(home, "/api/policies/two/restore-test", {"source": database})
    assert run["status"] == "succeeded", run
    assert run["result"]["snapshot"] == db_snapshot
    assert run["result"]["sources"] == [database]
    run = _started(home, "/api/policies/two/restore-test", {"source": other})
    assert run["status"] == "succeeded", run
    assert run["result"]["snapshot"] == files["result"]["snapshot"]


def test_a_per_source_backup_backs_up_that_source_only(home: Api) -> None:
    other, database = _labels(home, "two")
    run = _started(home, "/api/policies/two/backup", {"source": other})
    assert run["status"] == "succeeded", run
    assert run["result"]["paths"] == [other]
    assert run["result"]["summary"]["files_total"] == 1
    assert "databases" not in run["result"]
    both = _started(home, "/api/policies/two/backup")
    assert both["result"]["paths"] == [other] and len(both["result"]["databases"]) == 1
    doc = _problem(
        _post(home, "operator", "/api/policies/two/backup", {"source": "/nope"}), 400, "usage"
    )
    assert other in doc["hint"] and database in doc["hint"]
    cli = home.cli_json("backup", "--policy", "two", "--source", database)
    assert set(cli) == {"databases"} and cli["databases"][0]["source"]
    refused = home.drkit("backup", "--policy", "two", "--source", "/nope")
    assert refused.returncode == 2 and "has no source '/nope'" in refused.stderr


def test_a_drill_restores_and_times_the_policy_and_shows_in_the_drills(home: Api) -> None:
    # a restore test of its own: the drills page lists both kinds, whatever ran before
    tested = _started(home, "/api/policies/app/restore-test")
    assert tested["status"] == "succeeded", tested
    run = _started(home, "/api/policies/app/drill", caller="operator")
    assert run["status"] == "succeeded", run
    assert run["kind"] == "drill"
    assert run["result"]["verdict"] == "passed" and run["result"]["policy"] == "app"
    assert run["result"]["repositories"][0]["restore_test"]["files"] == 2
    assert any(s["name"].startswith("local") for s in run["steps"]), run["steps"]
    cli = home.cli_json("drill", "backup", "--policy", "app")
    assert set(run["result"]) == set(cli)
    drills = home.get("/api/drills", "viewer").json()
    app = [r for r in drills["restores"] if r["policy"] == "app"]
    kinds = {t["kind"] for r in app for t in r["times"]}
    assert {"drill", "restore-test"} <= kinds
    assert all(r["rto_s"] == 3600 for r in app)
    assert _started(home, "/api/policies/broken/drill")["status"] == "failed"
    _problem(_post(home, "viewer", "/api/policies/app/drill"), 403, "not-permitted")
    _problem(
        _post(home, "operator", "/api/policies/app/drill", {"repository": "damaged"}), 400, "usage"
    )


def _save_sleeper(home: Api) -> None:
    (home.root / "api-sleeper.yaml").write_text(SLEEPER.format(root=home.root))
    home.drkit("runbook", "save", str(home.root / "api-sleeper.yaml")).check()


def _wait_running(home: Api, run_id: int, step: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        run = home.get(f"/api/runs/{run_id}", "viewer").json()
        if any(s["name"] == step and s["status"] == "running" for s in run["steps"]):
            return
        assert run["status"] == "running", run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)


def test_a_run_cancelled_through_the_api_ends_cancelled_and_resumes_in_place(home: Api) -> None:
    _save_sleeper(home)
    (home.root / "go").unlink(missing_ok=True)
    r = _post(home, "operator", "/api/runbooks/api-sleeper/runs")
    assert r.status_code == 202, r.text
    run_id, url = r.json()["run"], r.json()["url"]
    _wait_running(home, run_id, "wait")
    busy = _post(home, "operator", f"/api/runs/{run_id}/resume")
    _problem(busy, 409, "run-not-resumable")
    assert _post(home, "operator", f"/api/runs/{run_id}/cancel").status_code == 202
    run = finished(home, url)
    assert run["status"] == "cancelled", run
    assert "operator" in (run["error"] or "")
    assert not (home.root / "after.txt").exists()
    # resumed: the same run goes on at the cancelled step, and ends succeeded
    (home.root / "go").write_text("")
    again = _post(home, "operator", f"/api/runs/{run_id}/resume")
    assert again.status_code == 202, again.text
    assert again.json()["url"] == url and again.headers["location"] == url
    done = finished(home, url)
    assert done["status"] == "succeeded", done
    assert (home.root / "after.txt").read_text() == "after\n"
    assert [s["name"] for s in done["steps"] if s["status"] == "succeeded"][-2:] == [
        "wait",
        "after",
    ]
    assert done["result"]["status"] == "succeeded" and done["result"]["run_id"] == run_id
    _problem(_post(home, "operator", f"/api/runs/{run_id}/resume"), 409, "run-not-resumable")
    _problem(_post(home, "viewer", f"/api/runs/{run_id}/resume"), 403, "not-permitted")


def test_resuming_what_is_not_a_runbook_run_is_refused(home: Api) -> None:
    body = {"snapshot": "latest", "policy": "app", "target": str(home.root / "out-resume")}
    restore = _started(home, "/api/repositories/local/restore", body)  # a run of its own
    assert restore["status"] == "succeeded", restore
    r = _post(home, "operator", f"/api/runs/{restore['id']}/resume")
    assert "not a runbook run" in _problem(r, 409, "runbook")["detail"]
    _problem(_post(home, "operator", "/api/runs/999999/resume"), 404, "run-not-found")


def test_a_failed_runbook_run_resumes_at_its_failed_step(home: Api, tmp_path: Path) -> None:
    flag = home.root / "fixed"
    book = home.root / "api-flaky.yaml"
    book.write_text(
        "name: api-flaky\nsteps:\n  - id: once\n    action: shell\n"
        f'    with: {{command: "test -f {flag}"}}\n'
    )
    home.drkit("runbook", "save", str(book)).check()
    first = _started(home, "/api/runbooks/api-flaky/runs")
    assert first["status"] == "failed", first
    flag.write_text("")
    r = _post(home, "operator", f"/api/runs/{first['id']}/resume")
    assert r.status_code == 202, r.text
    done = finished(home, r.json()["url"])
    assert done["status"] == "succeeded", done
    assert done["id"] == first["id"]


def test_a_runbook_drill_runs_with_its_configured_inputs_and_counts_in_the_drills(
    home: Api,
) -> None:
    (home.root / "api-drilled.yaml").write_text(DRILLED.format())
    home.drkit("runbook", "save", str(home.root / "api-drilled.yaml")).check()
    run = _started(home, "/api/runbooks/api-drilled/drill")
    assert run["status"] == "succeeded" and run["kind"] == "drill", run
    assert run["result"]["inputs"] == {"code": "0"} and run["result"]["rto_met"] is True
    failed = _started(home, "/api/runbooks/api-drilled/drill", {"inputs": {"code": "3"}})
    assert failed["status"] == "failed", failed
    _problem(_post(home, "viewer", "/api/runbooks/api-drilled/drill"), 403, "not-permitted")
    drills = home.get("/api/drills", "viewer").json()
    (drilled,) = [r for r in drills["runbooks"] if r["runbook"] == "api-drilled"]
    assert drilled["rto_s"] == 3600 and drilled["jobs"][0]["id"] == "drill:api-drilled"
    assert [r["run_id"] for r in drilled["stats"]["runs"]] == [failed["id"], run["id"]]
    assert drilled["stats"] == home.cli_json("runbook", "stats", "api-drilled", "--drills")


def test_a_run_cancelled_while_it_waits_to_start_never_starts(home: Api) -> None:
    """One worker: the second run waits in the queue; cancelled there, it never runs."""
    from drkit.services.launch import Launcher

    _save_sleeper(home)
    (home.root / "go").unlink(missing_ok=True)
    (home.root / "after.txt").unlink(missing_ok=True)
    with serving(home, launcher=Launcher(home.workspace, workers=1)) as queued:
        first = _post(queued, "operator", "/api/runbooks/api-sleeper/runs").json()
        _wait_running(queued, first["run"], "wait")
        second = _post(queued, "operator", "/api/runbooks/api-sleeper/runs").json()
        assert _post(queued, "operator", f"/api/runs/{second['run']}/cancel").status_code == 202
        assert _post(queued, "operator", f"/api/runs/{first['run']}/cancel").status_code == 202
        assert finished(queued, first["url"])["status"] == "cancelled"
        waited = finished(queued, second["url"])
        assert waited["status"] == "cancelled", waited
        assert "before it started" in (waited["error"] or "")
        assert waited["steps"] == []
        assert not (home.root / "after.txt").exists()


def test_a_restore_cancelled_while_it_waits_ends_cancelled_and_writes_nothing(
    home: Api,
) -> None:
    """One worker, busy with a runbook run: the restore waits; cancelled, it never starts."""
    from drkit.services.launch import Launcher

    _save_sleeper(home)
    (home.root / "go").unlink(missing_ok=True)
    target = home.root / "out-cancelled"
    with serving(home, launcher=Launcher(home.workspace, workers=1)) as queued:
        first = _post(queued, "operator", "/api/runbooks/api-sleeper/runs").json()
        _wait_running(queued, first["run"], "wait")
        body = {"snapshot": "latest", "policy": "app", "target": str(target)}
        restore = _post(queued, "operator", "/api/repositories/local/restore", body).json()
        said = _post(queued, "operator", f"/api/runs/{restore['run']}/cancel")
        assert said.status_code == 202 and "stop" in said.json()["message"], said.text
        assert _post(queued, "operator", f"/api/runs/{first['run']}/cancel").status_code == 202
        run = finished(queued, restore["url"])
        assert run["status"] == "cancelled", run
        assert run["error"] == "cancelled by operator"
        assert run["result"]["error"]["code"] == "run-cancelled"
        assert not target.exists() or not any(target.iterdir())
        again = _post(queued, "operator", f"/api/runs/{restore['run']}/cancel")
        _problem(again, 409, "run-not-cancellable")
        assert "is not running (it is cancelled)" in again.json()["detail"], again.text
