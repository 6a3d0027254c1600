"""Routes that start work: 202 with the run's URL, and the finished run holds the CLI's --json.

A real drkit home with two repositories, served by a real uvicorn; the
operations run in the app's background launcher, the CLI in a subprocess.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from drkit.catalog.runs import get_run
from drkit.repository.locks import RepoLock
from drkit.services.launch import as_json
from drkit.services.workspace import Workspace
from tests.fixtures.net import free_port
from tests.integration.api.conftest import Api, add_callers, make_home, serving

SETTINGS = """\
home: {root}
repositories:
  local:
    url: {root}/repo
    password_file: {root}/pw
    media: disk
    site: office
  offsite:
    url: {root}/offsite
    password_file: {root}/pw
    media: disk
    site: cloud
policies:
  app:
    sources: [{root}/src]
    repositories: [local]
    schedule: "0 2 * * *"
    retention: {{last: 1}}
  broken:
    sources:
      - {root}/src
      - {{type: postgres, dsn: "postgresql://postgres@127.0.0.1:{down}/app"}}
    repositories: [local]
daemon:
  listen: ''
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("launch") / "home"
    env = make_home(root)
    (root / "drkit.yaml").write_text(SETTINGS.format(root=root, down=free_port()))
    setup = Api(root, env, "", Workspace(config=root / "drkit.yaml"))
    for name in ("local", "offsite"):
        setup.drkit("--repo", name, "init").check()
    setup.tokens = add_callers(setup.catalog())
    try:
        with serving(setup) as served:
            yield served
    finally:
        setup.workspace.close()


def finished(api: Api, url: str, timeout: float = 120.0) -> dict[str, Any]:
    """The run at ``url`` once it is no longer running."""
    deadline = time.monotonic() + timeout
    with api.client("viewer") as c:
        while True:
            run: dict[str, Any] = c.get(url).json()
            if run["status"] != "running" or time.monotonic() > deadline:
                return run
            time.sleep(0.05)


def started(r: httpx.Response) -> str:
    assert r.status_code == 202, r.text
    body = r.json()
    assert r.headers["location"] == body["url"] == f"/api/runs/{body['run']}"
    assert body["status"] == "running"
    return str(body["url"])


def test_a_backup_started_through_the_api_is_the_clis_backup(home: Api) -> None:
    with home.client("operator") as c:
        url = started(c.post("/api/policies/app/backup", json={"tags": ["api"]}))
    run = finished(home, url)
    assert (run["status"], run["kind"], run["subject"], run["trigger"]) == (
        "succeeded",
        "backup",
        "app",
        "api",
    )
    doc = run["result"]
    snaps = home.cli_json("--repo", "local", "snapshots")
    assert doc["snapshot"] in {s["id"] for s in snaps}
    mine = next(s for s in snaps if s["id"] == doc["snapshot"])
    assert "api" in mine["tags"] and "policy:app" in mine["tags"]
    cli = home.cli_json("backup", "--policy", "app")
    assert set(doc) == set(cli) and doc["paths"] == cli["paths"]
    assert set(doc["summary"]) == set(cli["summary"])
    assert [s["name"] for s in run["steps"]] and all(
        s["status"] == "succeeded" for s in run["steps"]
    )
    audit = home.get("/api/audit", "admin", params={"action": "backup.start"}).json()
    assert any(e["actor"] == "operator" and e["detail"] == f"run {run['id']}" for e in audit)


def test_forget_and_copy_runs_hold_the_clis_json(home: Api) -> None:
    home.drkit("backup", "--policy", "app").check()
    dry = {"dry_run": True}
    with home.client("operator") as c:
        forget_url = started(c.post("/api/policies/app/forget", json=dry))
    forget = finished(home, forget_url)
    assert forget["status"] == "succeeded", forget
    cli = home.cli_json("forget", "--policy", "app", "--dry-run")
    assert forget["result"] == cli
    assert forget["result"]["local"]["would_remove"]  # retention keeps one: there is work

    with home.client("operator") as c:
        copy_url = started(c.post("/api/copy", json={"source": "local", "destination": "offsite"}))
    copied = finished(home, copy_url)
    assert copied["status"] == "succeeded", copied
    local = {s["id"] for s in home.cli_json("--repo", "local", "snapshots")}
    assert set(copied["result"]["copied"]) == local
    assert {s["id"] for s in home.cli_json("--repo", "offsite", "snapshots")} == local
    again = home.cli_json("copy", "--from", "local", "--to", "offsite")
    assert again["copied"] == [] and again["skipped"] == len(local)


def test_a_job_runs_now_as_the_daemon_runs_it(home: Api) -> None:
    job = next(j for j in home.get("/api/jobs", "viewer").json() if j["kind"] == "backup")
    with home.client("operator") as c:
        url = started(c.post(f"/api/jobs/{job['job']}/run"))
    run = finished(home, url)
    assert run["status"] == "succeeded", run
    assert run["job"] == job["job"] and run["result"] == {"run": run["id"], "status": "succeeded"}
    steps = run["steps"]
    assert [s["name"] for s in steps] == job["steps"] or len(steps) == len(job["steps"])
    assert steps[0]["details"]["result"]["snapshot"]  # the step's own `drkit backup --json`
    with home.client("operator") as c:
        missing = c.post("/api/jobs/nope/run")
    assert missing.status_code == 404 and missing.json()["code"] == "job-not-found"


def test_a_run_failing_midway_is_failed_with_the_errors_code_and_hint(home: Api) -> None:
    with home.client("operator") as c:
        url = started(c.post("/api/policies/broken/backup"))
    run = finished(home, url)
    assert run["status"] == "failed", run
    error = run["result"]["error"]
    assert error["code"] and error["code"] != "internal" and error["hint"], error
    assert "cannot connect" in error["message"] and run["error"] == error["message"]
    assert run["result"]["snapshot"]  # the files were saved before the database failed
    assert run["result"]["databases"][0]["error"]


def test_a_locked_repository_fails_the_run_with_repository_locked(home: Api) -> None:
    repo = home.workspace.child()
    try:
        with RepoLock(repo.open_named("local"), exclusive=True, operation="prune"):
            with home.client("operator") as c:
                url = started(c.post("/api/policies/app/backup"))
            run = finished(home, url)
    finally:
        repo.close()
    assert run["status"] == "failed"
    assert run["result"]["error"]["code"] == "repository-locked"
    assert "lock" in run["result"]["error"]["hint"]


def test_starting_work_needs_the_backup_permission(home: Api) -> None:
    with home.client("viewer") as c:
        r = c.post("/api/policies/app/backup")
    assert r.status_code == 403 and r.json()["code"] == "not-permitted"
    with home.client("operator") as c:
        unknown = c.post("/api/policies/nope/backup")
        outside = c.post("/api/copy", json={"source": "local", "destination": "/tmp/elsewhere"})
    assert unknown.status_code == 400 and unknown.json()["hint"].startswith("defined in")
    assert outside.status_code == 400 and "offsite" in outside.json()["hint"]


def test_the_apis_snapshot_listing_follows_backups_and_forgets_made_elsewhere(home: Api) -> None:
    """The API keeps read snapshots between requests: new ones appear, forgotten ones go."""
    path = "/api/repositories/local/snapshots"
    before = {s["id"] for s in home.get(path, "viewer").json()}
    made = home.cli_json("--repo", "local", "backup", str(home.root / "src"))
    after = {s["id"] for s in home.get(path, "viewer").json()}
    assert after == before | {made["snapshot"]}
    home.drkit("--repo", "local", "forget", made["snapshot"]).check()
    assert {s["id"] for s in home.get(path, "viewer").json()} == before


def test_a_config_restore_is_previewed_then_applied(home: Api) -> None:
    """Last in this module: restoring drkit's configuration takes its users back too."""
    cfg = home.root / "drkit.yaml"
    home.drkit("status").check()  # the CLI records drkit.yaml as a version
    before = cfg.read_text()
    time.sleep(1.1)  # a version later than the one to go back to (times have seconds)
    when = home.cli_json("config", "log")[0]["time"]
    cfg.write_text(before.replace("retention: {last: 1}", "retention: {last: 3}"))
    home.drkit("status").check()
    home.workspace.reload()
    with home.client("viewer") as c:
        seen = c.get("/api/config/restore/preview", params={"at": when})
    assert seen.status_code == 200, seen.text
    item = seen.json()["preview"]["items"][0]
    assert item["status"] != "unchanged" and item["diff"], item
    assert seen.json()["preview"]["applied"] is False and cfg.read_text() != before
    with home.client("operator") as c:  # restoring configuration needs `configure`
        assert c.post("/api/config/restore", json={"at": when, "digest": "x"}).status_code == 403
    with home.client("admin") as c:
        stale = c.post("/api/config/restore", json={"at": when, "digest": "0" * 32})
        assert stale.status_code == 409 and stale.json()["code"] == "preview-outdated"
        url = started(
            c.post("/api/config/restore", json={"at": when, "digest": seen.json()["digest"]})
        )
    # drkit's configuration includes its users, which the test made outside the history: the
    # restore takes them (and their tokens) back to none, so the run is read from the catalog
    run_id = int(url.rsplit("/", 1)[1])
    deadline = time.monotonic() + 120
    while get_run(home.catalog(), run_id).status == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    run = as_json(get_run(home.catalog(), run_id).to_json())
    assert run["status"] == "succeeded", run
    assert run["kind"] == "config-restore" and run["result"]["applied"] is True
    assert cfg.read_text() == before
    home.workspace.reload()
