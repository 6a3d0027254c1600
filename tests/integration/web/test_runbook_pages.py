"""The runbook pages: the list, the file now and a recorded version, the guide."""

from __future__ import annotations

import html
import time

from tests.integration.api.conftest import Api
from tests.integration.web.conftest import csrf_of, signed_in
from tests.integration.web.waiting_runs import waiting_run

SWITCH = """\
name: switch
description: |
  Move the service to site **b**. <script>alert("the runbook's own text")</script>
rto: 5m
steps:
  - id: check
    name: Check site b is ready
    action: shell
    with: {command: "true"}
  - id: go
    name: Confirm the move
    manual: {prompt: "Is everyone off site a?", approvers: [ada]}
"""


def _save(site: Api, text: str) -> str:
    (site.root / "switch.yaml").write_text(text)
    site.drkit("runbook", "save", str(site.root / "switch.yaml")).check()
    return str(site.cli_json("runbook", "show", "switch")["version"])


def test_runbooks_list_a_recorded_version_and_the_guide(site: Api) -> None:
    first = _save(site, SWITCH)
    second = _save(site, SWITCH.replace("rto: 5m", "rto: 10m"))
    assert first != second
    with signed_in(site, "dana") as c:
        listing = c.get("/runbooks")
        assert listing.status_code == 200 and 'href="/runbooks/switch"' in listing.text
        assert f"<code>{second}</code>" in listing.text and "10m" in listing.text
        now = c.get("/runbooks/switch")
        assert "rto: 10m" in now.text and f"?version={first}" in now.text
        old = c.get("/runbooks/switch", params={"version": first[:8]})
        assert old.status_code == 200 and "rto: 5m" in old.text and "rto: 10m" not in old.text
        assert "&lt;script&gt;" in old.text and "<script>" not in old.text
        guide = c.get("/runbooks/switch/guide")
        assert guide.status_code == 200
        assert "MANUAL STEP" in guide.text and "Is everyone off site a?" in guide.text
        assert "approvers: ada" in guide.text and "RTO target: <strong>10m</strong>" in guide.text
        assert "<h3>1. Check site b is ready</h3>" in guide.text
        assert "<script>" not in guide.text and "&lt;script&gt;" in guide.text  # no raw HTML
        old_guide = c.get("/runbooks/switch/guide", params={"version": first})
        assert "RTO target: <strong>5m</strong>" in old_guide.text


def test_unknown_runbooks_and_versions_answer_404_with_a_hint(site: Api) -> None:
    with signed_in(site, "dana") as c:
        missing = c.get("/runbooks/nothing-here")
        assert missing.status_code == 404 and "no runbook 'nothing-here'" in html.unescape(
            missing.text
        )
        assert c.get("/runbooks/nothing-here/guide").status_code == 404
        bad = c.get("/runbooks/switch", params={"version": "ffffffffffff"})
        assert bad.status_code == 404 and "has no version" in bad.text


def test_a_waiting_step_is_approved_on_the_run_page_refusals_show_why(site: Api) -> None:
    with waiting_run(site, "gate-page") as run:
        path = f"/runs/{run.run_id}"
        decide = f"{path}/steps/go/decide"
        with signed_in(site, "olga") as c:  # an operator: may approve, not this step
            shown = c.get(path)
            assert shown.status_code == 200 and f'action="{decide}"' in shown.text
            assert "Is site a drained?" in shown.text
            expired = c.post(decide, data={"verdict": "approve", "csrf": "wrong"})
            assert expired.status_code == 400
            refused = c.post(decide, data={"verdict": "approve", "csrf": csrf_of(shown)})
            assert refused.status_code == 403
            text = html.unescape(refused.text)
            assert "user 'olga' is not an approver of this step (ada)" in text
        with signed_in(site, "dana") as c:  # a viewer
            r = c.post(decide, data={"verdict": "reject", "csrf": csrf_of(c.get(path))})
            assert r.status_code == 403
            assert "user 'dana' does not have the approve permission" in html.unescape(r.text)
        with signed_in(site, "ada") as c:
            form = c.get(path)
            data = {"verdict": "approve", "csrf": csrf_of(form), "comment": "drained"}
            ok = c.post(decide, data=data, follow_redirects=False)
            assert (ok.status_code, ok.headers["location"]) == (303, path)
        assert run.wait() == 0
        with signed_in(site, "dana") as c:
            done = c.get(path)
            assert f'action="{decide}"' not in done.text  # nothing waits any more
            assert "<td>ada</td><td>session</td><td>drained</td>" in done.text
            assert "not an approver" in done.text  # the refusals are kept, by name
    seen = [(a["user"], a["verdict"]) for a in site.cli_json("runs", "show", str(run.run_id))[
        "result"]["approvals"]]  # fmt: skip
    assert seen == [("olga", "refused"), ("dana", "refused"), ("ada", "approved")]


HELLO = """\
name: hello-form
inputs:
  who: {description: "who is greeted"}
  code: {description: "exit status", default: "0"}
steps:
  - id: greet
    action: shell
    with: {command: "echo hello ${{ inputs.who }}; exit ${{ inputs.code }}"}
"""


def test_run_a_runbook_with_inputs_from_its_page(site: Api) -> None:
    (site.root / "hello-form.yaml").write_text(HELLO)
    site.drkit("runbook", "save", str(site.root / "hello-form.yaml")).check()
    with signed_in(site, "dana") as c:  # a viewer sees the runbook, may not run it
        shown = c.get("/runbooks/hello-form")
        data = {"csrf": csrf_of(shown), "input.who": "dana"}
        assert c.post("/runbooks/hello-form/run", data=data).status_code == 403
    with signed_in(site, "olga") as c:
        shown = c.get("/runbooks/hello-form")
        assert 'name="input.who"' in shown.text and 'name="input.code"' in shown.text
        expired = c.post("/runbooks/hello-form/run", data={"csrf": "x", "input.who": "a"})
        assert expired.status_code == 400
        missing = c.post("/runbooks/hello-form/run", data={"csrf": csrf_of(shown)})
        assert missing.status_code == 400
        assert "needs the input 'who'" in html.unescape(missing.text)
        data = {"csrf": csrf_of(shown), "input.who": "olga", "input.code": "0"}
        r = c.post("/runbooks/hello-form/run", data=data, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/runs/"), r.text[:300]
        run_id = int(r.headers["location"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 120
    while (view := site.cli_json("runs", "show", str(run_id)))["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert view["status"] == "succeeded" and view["result"]["started_by"] == "olga"
    assert view["result"]["inputs"] == {"who": "olga", "code": "0"}
    assert "hello olga" in view["steps"][0]["output"]
