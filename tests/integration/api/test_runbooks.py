"""Runbooks over the API: the CLI's --json, and a real run's manual steps approved,
rejected and cancelled by the caller (a real `drkit runbook run` waiting in the background)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from drkit.users.audit import entries
from tests.integration.api.conftest import Api

BOOK = """\
name: api-gates
description: Two gates, one only the admin may open. <b>not markup</b>
rto: 5m
steps:
  - id: go
    name: Confirm the switch
    manual: {prompt: "Is site a drained?", approvers: [admin], timeout: 120}
  - id: second
    manual: {prompt: "Really?", timeout: 120}
  - id: after
    action: shell
    with: {command: "true"}
"""


def _save(api: Api, text: str) -> str:
    (api.root / "api-gates.yaml").write_text(text)
    api.drkit("runbook", "save", str(api.root / "api-gates.yaml")).check()
    return str(api.cli_json("runbook", "show", "api-gates")["version"])


def test_runbook_reads_are_the_clis_json(api: Api) -> None:
    first = _save(api, BOOK)
    second = _save(api, BOOK.replace("rto: 5m", "rto: 10m"))
    listed = api.get("/api/runbooks", "viewer")
    assert listed.status_code == 200
    assert listed.json() == api.cli_json("runbook", "list")
    assert {r["name"]: r["version"] for r in listed.json()}["api-gates"] == second
    now = api.get("/api/runbooks/api-gates", "viewer").json()
    assert now == api.cli_json("runbook", "show", "api-gates")
    assert "rto: 10m" in now["content"]
    log = api.get("/api/runbooks/api-gates/versions", "viewer").json()
    assert log == api.cli_json("runbook", "log", "api-gates")
    assert [v["version"] for v in log][:2] == [second, first]
    old = api.get(f"/api/runbooks/api-gates/versions/{first[:8]}", "viewer").json()
    assert old == api.cli_json("runbook", "show", "api-gates", "--version", first[:8])
    assert "rto: 5m" in old["content"] and old["version"] == first
    guide = api.get("/api/runbooks/api-gates/guide", "viewer").json()
    assert guide["markdown"] == api.drkit("runbook", "guide", "api-gates").check().stdout
    assert "Is site a drained?" in guide["html"] and "approvers: admin" in guide["html"]
    assert "<b>" not in guide["html"] and "&lt;b&gt;" in guide["html"]  # no raw HTML
    old_guide = api.get("/api/runbooks/api-gates/guide", "viewer", params={"version": first})
    assert "RTO target: **5m**" in old_guide.json()["markdown"]


def test_unknown_runbooks_and_versions_are_404_problems(api: Api) -> None:
    for path in (
        "/api/runbooks/no-such-book",
        "/api/runbooks/no-such-book/versions",
        "/api/runbooks/no-such-book/guide",
        "/api/runbooks/api-gates/versions/ffffffffffff",
    ):
        _save(api, BOOK)
        r = api.get(path, "viewer")
        assert r.status_code == 404, (path, r.text)
        assert r.json()["code"] == "runbook-not-found" and r.json()["hint"], path
    assert api.get("/api/runbooks/..%2Fdrkit", "viewer").status_code in (404, 422)


@contextmanager
def _running(api: Api) -> Iterator[subprocess.Popen[str]]:
    _save(api, BOOK)
    proc = subprocess.Popen(
        [sys.executable, "-m", "drkit", "runbook", "run", "api-gates", "--json"],
        env=api.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


def _wait_for(api: Api, step: str, proc: subprocess.Popen[str]) -> int:
    """The id of the newest api-gates run once it waits at ``step``."""
    deadline = time.monotonic() + 120
    run: Any = None
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended ({proc.returncode}): {proc.communicate()}")
        runs = api.get("/api/runs", "viewer", params={"subject": "api-gates", "limit": 1}).json()
        if runs:
            run = api.get(f"/api/runs/{runs[0]['id']}", "viewer").json()
            steps = run["steps"]
            if steps and steps[-1]["status"] == "waiting" and steps[-1]["name"] == step:
                return int(run["id"])
        assert time.monotonic() < deadline, f"timed out waiting for step {step}: {run}"
        time.sleep(0.1)


def _post(api: Api, caller: str, path: str, body: Any = None) -> Any:
    with api.client(caller) as c:
        return c.post(path, json=body)


def test_the_caller_approves_or_rejects_and_refusals_are_403_with_the_reason(api: Api) -> None:
    with _running(api) as proc:
        run_id = _wait_for(api, "go", proc)
        go = f"/api/runs/{run_id}/steps/go"
        viewer = _post(api, "viewer", f"{go}/approve")
        assert viewer.status_code == 403 and viewer.json()["code"] == "not-permitted"
        refused = _post(api, "operator", f"{go}/approve", {"comment": "looks fine"})
        assert refused.status_code == 403, refused.text
        doc = refused.json()
        assert doc["code"] == "approval-refused" and doc["exit_code"] == 65
        assert "'operator' is not an approver of this step (admin)" in doc["detail"]
        assert "approve permission" in doc["hint"]
        not_waiting = _post(api, "admin", f"/api/runs/{run_id}/steps/second/approve")
        assert not_waiting.status_code == 409 and "not waiting" in not_waiting.json()["detail"]
        ok = _post(api, "admin", f"{go}/approve", {"comment": "drained"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["user"] == "admin" and ok.json()["verdict"] == "approved"
        assert ok.json()["via"].startswith("token:")
        _wait_for(api, "second", proc)
        no = _post(api, "operator", f"/api/runs/{run_id}/steps/second/reject", {"comment": "no"})
        assert no.status_code == 200 and no.json()["verdict"] == "rejected", no.text
        proc.wait(timeout=120)
        assert proc.returncode == 61  # the rejected step failed the run
    run = api.get(f"/api/runs/{run_id}", "viewer").json()
    assert run["status"] == "failed"
    seen = [(a["user"], a["step"], a["verdict"]) for a in run["result"]["approvals"]]
    assert seen == [
        ("operator", "go", "refused"),
        ("admin", "go", "approved"),
        ("operator", "second", "rejected"),
    ]
    shown = api.drkit("runs", "show", str(run_id)).check().stdout  # and its text view
    assert "step go: refused by operator (token:" in shown and "not an approver" in shown
    assert "step go: approved by admin (token:" in shown and "- drained" in shown
    with api.catalog().session() as s:
        found = entries(s, action="runbook.")
    audited = {(e.actor, e.action, e.outcome.value) for e in found}
    assert ("operator", "runbook.approve", "denied") in audited
    assert ("admin", "runbook.approve", "ok") in audited
    assert ("operator", "runbook.reject", "ok") in audited


def test_cancel_names_the_caller(api: Api) -> None:
    with _running(api) as proc:
        run_id = _wait_for(api, "go", proc)
        viewer = _post(api, "viewer", f"/api/runs/{run_id}/cancel")
        assert viewer.status_code == 403
        r = _post(api, "operator", f"/api/runs/{run_id}/cancel")
        assert r.status_code == 202, r.text
        assert r.json()["run_id"] == run_id
        proc.wait(timeout=120)
        assert proc.returncode == 63
    run = api.get(f"/api/runs/{run_id}", "viewer").json()
    assert run["status"] == "cancelled" and "operator" in (run["error"] or "")
    again = _post(api, "operator", f"/api/runs/{run_id}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "run-not-resumable"
    with api.catalog().session() as s:
        audited = {
            (e.actor, e.target, e.outcome.value) for e in entries(s, action="runbook.cancel")
        }
    assert ("operator", f"run {run_id}", "ok") in audited


INPUTS = """\
name: api-inputs
inputs:
  who: {description: "who says hello"}
  code: {description: "exit status of b", default: "0"}
steps:
  - id: a
    action: shell
    with: {command: "echo hello ${{ inputs.who }}"}
  - id: b
    action: shell
    with: {command: "exit ${{ inputs.code }}"}
"""


def _started(api: Api, path: str, body: Any) -> dict[str, Any]:
    """POST ``path`` as the operator: 202 with the run's URL; the run once it ended."""
    r = _post(api, "operator", path, body)
    assert r.status_code == 202, r.text
    url = r.headers["location"]
    assert url == r.json()["url"] == f"/api/runs/{r.json()['run']}"
    deadline = time.monotonic() + 120
    while True:
        run: dict[str, Any] = api.get(url, "viewer").json()
        if run["status"] != "running":
            return run
        assert time.monotonic() < deadline, f"run {url} did not end"
        time.sleep(0.1)


def test_run_with_inputs_and_rerun_from_a_step_answer_202_with_the_run(api: Api) -> None:
    (api.root / "api-inputs.yaml").write_text(INPUTS)
    api.drkit("runbook", "save", str(api.root / "api-inputs.yaml")).check()
    start = "/api/runbooks/api-inputs/runs"
    assert _post(api, "viewer", start, {"inputs": {"who": "x"}}).status_code == 403
    missing = _post(api, "operator", start, {})
    assert missing.status_code == 400 and "needs the input 'who'" in missing.json()["detail"]
    unknown = _post(api, "operator", start, {"inputs": {"who": "x", "what": "y"}})
    assert unknown.status_code == 400 and "has no input 'what'" in unknown.json()["detail"]
    assert _post(api, "operator", "/api/runbooks/no-such-book/runs", {}).status_code == 404

    ok = _started(api, start, {"inputs": {"who": "ops"}})
    assert (ok["kind"], ok["subject"], ok["status"], ok["trigger"]) == (
        "runbook", "api-inputs", "succeeded", "api",
    )  # fmt: skip
    assert ok["result"]["inputs"] == {"who": "ops", "code": "0"}
    assert ok["result"]["started_by"] == "operator"
    assert [s["name"] for s in ok["steps"]] == ["a", "b"]
    assert "hello ops" in ok["steps"][0]["output"]

    failed = _started(api, start, {"inputs": {"who": "ops", "code": "3"}})
    assert failed["status"] == "failed" and failed["result"]["error"]["code"] == "step-failed"
    assert failed["result"]["inputs"]["code"] == "3"  # what the run needs to resume is kept
    assert failed["result"]["failed_step"] == "b"

    rerun = f"/api/runs/{failed['id']}/rerun"
    bad = _post(api, "operator", rerun, {"from_step": "nope"})
    assert bad.status_code == 409 and "not a top-level step" in bad.json()["detail"]
    again = _started(api, rerun, {"from_step": "b", "inputs": {"code": "0"}})
    assert again["status"] == "succeeded", again
    assert again["result"]["rerun_of"] == failed["id"] and again["result"]["from_step"] == "b"
    assert again["result"]["started_by"] == "operator"
    with api.catalog().session() as s:
        found = entries(s, action="runbook.r")
    audited = {(e.actor, e.action, e.detail) for e in found}
    assert ("operator", "runbook.run", f"run {ok['id']}") in audited
    assert ("operator", "runbook.rerun", f"run {again['id']}") in audited
