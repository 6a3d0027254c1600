"""Debian's Chromium, driven by Playwright: sign in, see a failing 3-2-1 rule, sign out;
diff two configuration versions and restore one; create and revoke a token; the drill
chart; a manual step refused and approved on its run's page; a restore test started on
the drills page and a restore on a snapshot's page, each watched on its run's page to the
end; every page at a phone's width.

Screenshots go to test-artifacts/dashboard/ (DRKIT_TEST_ARTIFACTS overrides it).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.api.conftest import Api
from tests.integration.web.conftest import PASSWORD, add_drills
from tests.integration.web.test_config_pages import two_versions
from tests.integration.web.waiting_runs import waiting_run

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("DRKIT_TEST_ARTIFACTS", "test-artifacts")) / "dashboard"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            "Debian's chromium is missing: scripts/test installs it (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


def test_sign_in_overview_and_sign_out(site: Api, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{site.url}/")
    expect(page).to_have_url(f"{site.url}/login")
    page.fill("input[name=username]", "dana")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("wrong name or password")
    page.screenshot(path=str(ARTIFACTS / "login-failed.png"))

    page.fill("input[name=username]", "dana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{site.url}/")
    expect(page.locator("article.source.failing")).to_contain_text("3-2-1 FAILING")
    expect(page.locator("article.source")).to_contain_text("RPO 1d")
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
    cookie = next(c for c in page.context.cookies() if c["name"] == "drkit_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("drkit_session") == -1  # no script sees it

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.screenshot(path=str(ARTIFACTS / "overview-phone.png"), full_page=True)
    page.click("text=Sign out")
    expect(page).to_have_url(f"{site.url}/login")
    page.goto(f"{site.url}/")
    expect(page).to_have_url(f"{site.url}/login")
    page.screenshot(path=str(ARTIFACTS / "signed-out.png"))
    page.close()


PHONE = {"width": 390, "height": 844}


def _signed_in(
    browser: object, site: Api, user: str, viewport: dict[str, int] | None = None
) -> Any:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=viewport or {"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{site.url}/")
    return page


def test_diff_two_config_versions_and_restore_one(site: Api, browser: object) -> None:
    from playwright.sync_api import expect

    old, new = two_versions(site)
    page = _signed_in(browser, site, "ada")
    page.click("nav >> text=Configuration")
    page.fill("input[name=old]", str(old))
    page.fill("input[name=new]", str(new))
    page.click("button:has-text('Diff')")
    expect(page.locator("section.diff")).to_contain_text("rpo: 2d")
    expect(page.locator("section.diff")).to_contain_text("rpo: 1d")
    page.screenshot(path=str(ARTIFACTS / "config-diff.png"), full_page=True)
    page.click(f"[aria-label='restore version {old}']")
    expect(page.locator("h2")).to_contain_text("Preview")
    page.screenshot(path=str(ARTIFACTS / "config-restore-preview.png"), full_page=True)
    assert "rpo: 2d" in (site.root / "drkit.yaml").read_text()
    page.click("button.danger")
    expect(page.locator("section.done")).to_contain_text(f"Restored drkit to version #{old}")
    page.screenshot(path=str(ARTIFACTS / "config-restored.png"), full_page=True)
    assert "rpo: 1d" in (site.root / "drkit.yaml").read_text()
    page.context.close()


def test_create_and_revoke_a_token(site: Api, browser: object) -> None:
    from playwright.sync_api import expect

    page = _signed_in(browser, site, "ada")
    page.click("nav >> text=Users")
    page.click("a[href='/users/dana']")
    page.fill("input[name=label]", "ci pipeline")
    page.check("input[name=permissions][value=view]")
    page.click("button:has-text('Create token')")
    secret = page.locator("code.token-secret").inner_text()
    page.screenshot(path=str(ARTIFACTS / "token-created.png"), full_page=True)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{site.url}/api/me", headers=bearer).json()["permissions"] == ["view"]
    page.reload()  # shown once: a new request of the page does not show it
    expect(page.locator("code.token-secret")).to_have_count(0)
    row = page.locator("tr", has_text="ci pipeline")
    row.locator("button:has-text('Revoke')").click()
    expect(page.locator("tr.revoked", has_text="ci pipeline")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "token-revoked.png"), full_page=True)
    assert httpx.get(f"{site.url}/api/me", headers=bearer).status_code == 401
    page.context.close()


def test_the_drill_chart(site: Api, browser: object) -> None:
    from playwright.sync_api import expect

    add_drills(site)
    page = _signed_in(browser, site, "dana")
    page.click("nav >> text=Drills")
    chart = page.locator("#drill-restore-db svg.rto-chart")
    expect(chart.locator("circle.run")).to_have_count(3)
    expect(chart.locator("line.objective")).to_have_count(1)
    expect(page.locator("table.drill-runs tr")).to_have_count(4)  # a header and the 3 drills
    assert chart.get_attribute("role") == "img"
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300
    page.screenshot(path=str(ARTIFACTS / "drills.png"), full_page=True)
    page.context.close()


def test_approve_a_manual_step(site: Api, browser: object) -> None:
    from playwright.sync_api import expect

    with waiting_run(site, "gate-browser") as run:
        refused = _signed_in(browser, site, "olga")  # an operator, not this step's approver
        refused.goto(f"{site.url}/runs/{run.run_id}")
        refused.click("button:has-text('Approve')")
        expect(refused.locator(".error[role=alert]")).to_contain_text("is not an approver")
        refused.screenshot(path=str(ARTIFACTS / "approval-refused.png"), full_page=True)
        refused.context.close()
        page = _signed_in(browser, site, "ada")
        page.goto(f"{site.url}/runs/{run.run_id}")
        expect(page.locator("section.decide")).to_contain_text("Is site a drained?")
        page.screenshot(path=str(ARTIFACTS / "approval-form.png"), full_page=True)
        page.fill("input[name=comment]", "site a is drained")
        page.click("button:has-text('Approve')")
        expect(page).to_have_url(f"{site.url}/runs/{run.run_id}")
        assert run.wait() == 0
        page.reload()
        expect(page.locator("section.decide")).to_have_count(0)
        expect(page.locator("table.approvals tr.approved")).to_contain_text("site a is drained")
        page.screenshot(path=str(ARTIFACTS / "approval-done.png"), full_page=True)
        page.context.close()


def test_start_a_restore_test_and_watch_its_journal_to_the_end(site: Api, browser: object) -> None:
    from playwright.sync_api import expect

    site.drkit("backup", "--policy", "app").check()
    page = _signed_in(browser, site, "olga")
    page.click("nav >> text=Drills")
    page.locator("#start-app button.restore-test").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(site.url)}/runs/\d+$"))
    # the page reloads itself while the run goes on; the journal reaches its end
    expect(page.locator("h1 .badge")).to_have_text("succeeded", timeout=120_000)
    journal = page.locator("table tr")
    expect(journal.filter(has_text="restore test: restore")).to_contain_text("succeeded")
    expect(journal.filter(has_text="restore test: cleanup")).to_contain_text("succeeded")
    page.screenshot(path=str(ARTIFACTS / "restore-test-run.png"), full_page=True)
    page.context.close()


def test_restore_a_directory_from_a_snapshots_page(site: Api, browser: object) -> None:
    from playwright.sync_api import expect

    src, target = site.root / "src", site.root / "restored-browser"
    page = _signed_in(browser, site, "olga")
    page.goto(f"{site.url}/snapshots/local?snapshot=latest&path={src}")
    form = page.locator("section.restore-form form")
    form.locator("input[name=target]").fill("not/absolute")
    form.locator("button[type=submit]").click()
    expect(page.locator(".error[role=alert]")).to_contain_text("is not an absolute path")
    page.screenshot(path=str(ARTIFACTS / "restore-refused.png"), full_page=True)
    form = page.locator("section.restore-form form")
    form.locator("input[name=target]").fill(str(target))
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(site.url)}/runs/\d+$"))
    expect(page.locator("h1 .badge")).to_have_text("succeeded", timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "restore-run.png"), full_page=True)
    restored = target / str(src).lstrip("/") / "a.txt"
    assert restored.read_bytes() == (src / "a.txt").read_bytes()
    page.context.close()


PAGES = ["/", "/snapshots", "/snapshots/local", "/snapshots/local?snapshot=latest&path=/",
         "/runs", "/runs/1", "/drills", "/runbooks", "/runbooks/restore-db",
         "/runbooks/restore-db/guide", "/config", "/config/restore?version=1", "/users",
         "/users/dana", "/tokens", "/audit"]  # fmt: skip


# elements whose content is wider than they are, outside the boxes meant to scroll sideways
CLIPPED = """() => [...document.querySelectorAll('main *')]
  .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
  .filter(e => !e.closest('.scroll, section.diff, pre, svg'))
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""


def test_every_page_fits_a_phone(site: Api, browser: object) -> None:
    """At 390 px nothing makes the page wider than the screen, and nothing is cut off: only
    the boxes meant to (wide tables, the diff, code) scroll sideways."""
    page = _signed_in(browser, site, "ada", viewport=PHONE)
    refused: list[str] = []  # what the browser blocked (the CSP) or failed to load
    page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
    if not (site.root / "restore-db.yaml").exists():
        add_drills(site)
    wider = []
    for path in PAGES:
        response = page.goto(f"{site.url}{path}")
        assert response is not None and response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        name = re.sub(r"[^\w-]+", "-", path.strip("/")).strip("-") or "overview"
        page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
        if width > PHONE["width"]:
            wider.append(f"{path}: {width} px")
        clipped = page.evaluate(CLIPPED)
        if clipped:
            wider.append(f"{path}: content wider than its box in {clipped}")
    assert not wider, wider
    assert not refused, refused
    assert page.evaluate("getComputedStyle(document.querySelector('header')).display") == "flex"
    page.context.close()
