"""The dashboard's start forms: a restore test and a drill on the drills page, a restore on
a snapshot's page. Each needs its permission and the session's CSRF token; input refused
before a run starts is said on the page; a started run did the work."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from tests.integration.api.conftest import Api
from tests.integration.web.conftest import DRILLED, csrf_of, signed_in


def _run_id(r: httpx.Response) -> int:
    assert r.status_code == 303, r.text[:500]
    found = re.fullmatch(r"/runs/(\d+)", r.headers["location"])
    assert found, r.headers["location"]
    return int(found.group(1))


def _ended(site: Api, run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        run: dict[str, Any] = site.get(f"/api/runs/{run_id}", "viewer").json()
        if run["status"] != "running" or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def _runs(site: Api) -> int:
    return len(site.get("/api/runs", "viewer", params={"limit": 1000}).json())


def test_the_drills_page_starts_a_restore_test_and_a_drill(site: Api) -> None:
    site.drkit("backup", "--policy", "app").check()
    source = str(site.root / "src")
    with signed_in(site, "olga") as c:
        page = c.get("/drills")
        assert 'action="/drills/restore-test"' in page.text
        assert 'action="/drills/drill"' in page.text
        assert f'name="source" value="{source}"' in page.text
        csrf = csrf_of(page)
        form = {"csrf": csrf, "policy": "app", "source": source}
        tested = _ended(site, _run_id(c.post("/drills/restore-test", data=form)))
        drill = {"csrf": csrf, "policy": "app"}
        drilled = _ended(site, _run_id(c.post("/drills/drill", data=drill)))
    assert tested["kind"] == "restore-test" and tested["status"] == "succeeded", tested
    assert tested["result"]["passed"] is True and tested["result"]["files"] == 1
    assert drilled["kind"] == "drill" and drilled["status"] == "succeeded", drilled
    assert drilled["result"]["verdict"] == "passed"
    with site.catalog().session() as s:
        from drkit.users.audit import entries

        started = {(e.actor, e.action) for e in entries(s, action="restore-test.")}
    assert ("olga", "restore-test.start") in started


def test_the_start_forms_need_the_csrf_token_and_the_permission(site: Api) -> None:
    before = _runs(site)
    with signed_in(site, "olga") as c:
        c.get("/drills")
        for path, form in (
            ("/drills/restore-test", {"policy": "app"}),
            ("/drills/drill", {"policy": "app", "csrf": "forged"}),
            ("/snapshots/local/restore", {"target": str(site.root / "x"), "csrf": ""}),
        ):
            r = c.post(path, data=form)
            assert r.status_code == 400 and "form expired" in r.text, (path, r.text[:300])
    with signed_in(site, "dana") as c:  # a viewer: the forms are not shown, and refused
        page = c.get("/drills")
        assert "/drills/restore-test" not in page.text
        form = {"csrf": csrf_of(page), "policy": "app"}
        assert c.post("/drills/restore-test", data=form).status_code == 403
        assert c.post("/drills/drill", data=form).status_code == 403
        restore = {**form, "target": str(site.root / "viewer-restore")}
        assert c.post("/snapshots/local/restore", data=restore).status_code == 403
        listing = c.get("/snapshots/local", params={"snapshot": "latest"})
        assert 'action="/snapshots/local/restore"' not in listing.text
    assert _runs(site) == before
    assert not (site.root / "viewer-restore").exists()


def test_refused_input_is_said_on_the_page_and_starts_nothing(site: Api) -> None:
    before = _runs(site)
    with signed_in(site, "olga") as c:
        csrf = csrf_of(c.get("/drills"))
        r = c.post("/drills/restore-test", data={"csrf": csrf, "policy": "nobody"})
        assert r.status_code == 400 and "no policy &#39;nobody&#39;" in r.text, r.text[:500]
        r = c.post("/snapshots/local/restore", data={"csrf": csrf, "target": "relative/dir"})
        assert r.status_code == 400 and "is not an absolute path" in r.text
        full = site.root / "not-empty"
        full.mkdir(exist_ok=True)
        (full / "keep").write_text("keep")
        r = c.post("/snapshots/local/restore", data={"csrf": csrf, "target": str(full)})
        assert r.status_code == 400 and "is not empty" in r.text
    assert _runs(site) == before
    assert (site.root / "not-empty" / "keep").read_text() == "keep"


def test_a_snapshots_restore_form_restores_a_directory_of_it(site: Api) -> None:
    snap = site.cli_json("--repo", "local", "snapshots")[-1]["id"]
    src = site.root / "src"
    target = site.root / "restored-web"
    with signed_in(site, "olga") as c:
        page = c.get("/snapshots/local", params={"snapshot": snap, "path": str(src)})
        assert 'action="/snapshots/local/restore"' in page.text
        assert f'name="include" value="{src}"' in page.text
        form = {"csrf": csrf_of(page), "snapshot": snap, "include": str(src), "target": str(target)}
        run = _ended(site, _run_id(c.post("/snapshots/local/restore", data=form)))
    assert run["kind"] == "restore" and run["status"] == "succeeded", run
    restored = target / str(src).lstrip("/") / "a.txt"
    assert restored.read_bytes() == (src / "a.txt").read_bytes()
    assert run["result"]["snapshot"] == snap and run["result"]["failed"] == {}


def test_a_running_runs_page_reloads_itself_until_the_run_ends(site: Api) -> None:
    from drkit.catalog.runs import RunJournal, RunStatus

    journal = RunJournal.start(site.catalog(), kind="restore", subject="local:x", trigger="api")
    refresh = '<meta http-equiv="refresh" content="2">'
    with signed_in(site, "dana") as c:
        assert refresh in c.get(f"/runs/{journal.run_id}").text
        journal.finish(RunStatus.SUCCEEDED, result={})
        assert refresh not in c.get(f"/runs/{journal.run_id}").text


def test_a_drilled_runbook_is_drilled_now_from_the_drills_page(site: Api) -> None:
    (site.root / "restore-db.yaml").write_text(DRILLED)
    site.drkit("runbook", "save", str(site.root / "restore-db.yaml")).check()
    site.drkit("runbook", "run", "restore-db", "--drill").check()  # now a drilled runbook
    with signed_in(site, "olga") as c:
        page = c.get("/drills")
        assert 'name="runbook" value="restore-db"' in page.text
        form = {"csrf": csrf_of(page), "runbook": "restore-db"}
        run = _ended(site, _run_id(c.post("/drills/runbook", data=form)))
        assert run["kind"] == "drill" and run["subject"] == "restore-db"
        assert run["status"] == "succeeded", run
        assert run["result"]["started_by"] == "olga"
        refused = c.post("/drills/runbook", data={**form, "runbook": "nobody"})
        assert refused.status_code == 404 and "nobody" in refused.text
