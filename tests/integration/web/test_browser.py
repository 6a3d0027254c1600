"""Debian's Chromium, driven by Playwright: sign in, see a failing 3-2-1 rule, sign out.

Screenshots go to test-artifacts/dashboard/ (DRKIT_TEST_ARTIFACTS overrides it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.api.conftest import Api
from tests.integration.web.conftest import PASSWORD

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
