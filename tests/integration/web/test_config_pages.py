"""Configuration history in the dashboard: diff two versions, restore one after its preview."""

from __future__ import annotations

import re

from drkit.users.audit import entries
from tests.integration.api.conftest import Api
from tests.integration.web.conftest import csrf_of, signed_in


def two_versions(site: Api) -> tuple[int, int]:
    """drkit.yaml with rpo 1d (version A), then with rpo 2d (version B): their ids.

    Both hold the users as they are now (the fixture added them without a version), so
    restoring A changes drkit.yaml only.
    """
    from drkit.confighistory.service import History

    ws = site.workspace
    History(ws.catalog(), ws.settings, ws.settings_file, ws.home).record_drkit(
        author="setup", message="the test's users"
    )
    config = site.root / "drkit.yaml"
    config.write_text(config.read_text().replace("rpo: 1d", "rpo: 2d"))
    site.drkit("status").check()
    log = [v for v in site.cli_json("config", "log") if v["name"] == "drkit"]
    return log[1]["id"], log[0]["id"]


def _form(page: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    assert {"csrf", "version", "plan"} <= set(fields), page[-1500:]
    return fields


def test_diff_two_versions_then_restore_one_after_its_preview(site: Api) -> None:
    old, new = two_versions(site)
    config = site.root / "drkit.yaml"
    with signed_in(site, "ada") as c:
        diff = c.get("/config", params={"old": str(old), "new": str(new)})
        assert diff.status_code == 200 and "rpo: 1d" in diff.text and "rpo: 2d" in diff.text
        assert f'href="/config/restore?version={old}"' in diff.text
        preview = c.get("/config/restore", params={"version": old})
        assert preview.status_code == 200 and "Preview" in preview.text
        assert "rpo: 2d" in preview.text and "rpo: 1d" in preview.text
        form = _form(preview.text)
        assert "rpo: 2d" in config.read_text()  # a preview changes nothing

        forged = c.post("/config/restore", data={**form, "csrf": "forged"})
        assert forged.status_code == 400 and "rpo: 2d" in config.read_text()
        stale = c.post("/config/restore", data={**form, "plan": "not-what-was-shown"})
        assert stale.status_code == 409 and "changed since the preview" in stale.text
        assert "rpo: 2d" in config.read_text() and "Preview" in stale.text

        done = c.post("/config/restore", data=form)
        assert done.status_code == 200, done.text[-1500:]
        assert f"Restored drkit to version #{old}" in done.text
        assert "rpo: 1d" in config.read_text() and "rpo: 2d" not in config.read_text()
        again = c.post("/config/restore", data=form)  # done already: nothing left to change
        assert again.status_code == 200 and "Nothing to restore" in again.text
    with site.catalog().session() as s:
        log = entries(s, action="config.restore", actor="ada")
    assert [(e.outcome.value, e.detail) for e in log] == [
        ("ok", "nothing to restore"),
        ("ok", f"drkit to #{old}"),
        ("failed", "config-restore-declined: the configuration changed since the preview"),
    ]
    assert all(e.via == "session" for e in log)
    restores = site.cli_json("runs", "--kind", "config-restore")
    assert len(restores) == 1 and restores[0]["status"] == "succeeded"


def test_restoring_needs_the_configure_permission(site: Api) -> None:
    with signed_in(site, "olga") as c:  # an operator may view the history, not restore it
        assert c.get("/config").status_code == 200
        assert "Restore…" not in c.get("/config").text
        assert c.get("/config/restore", params={"version": 1}).status_code == 403
        page = c.get("/")
        refused = c.post(
            "/config/restore", data={"version": "1", "plan": "", "csrf": csrf_of(page)}
        )
        assert refused.status_code == 403


def test_an_unknown_version_is_a_404_page(site: Api) -> None:
    with signed_in(site, "ada") as c:
        r = c.get("/config/restore", params={"version": 999999})
        assert r.status_code == 404 and 'class="error"' in r.text
