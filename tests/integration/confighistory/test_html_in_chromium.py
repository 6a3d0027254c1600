"""The HTML diff page as Chromium lays it out: line numbers never wrap (issue: every
number of two digits or more broke digit by digit in a narrow column)."""

from __future__ import annotations

import pytest

from drkit.confighistory.diff import diff_lines
from drkit.confighistory.html import page, side_by_side_fragment, unified_fragment
from tests.integration.web.test_browser import ARGS, CHROMIUM


@pytest.mark.parametrize("fragment", [side_by_side_fragment, unified_fragment])
def test_line_numbers_stay_on_one_line_in_a_narrow_window(fragment: object) -> None:
    old = [f"key_{n} = {n}" for n in range(1, 1200)]
    new = [*old[:1099], "key_1100 = changed", *old[1100:]]
    diff = diff_lines(old, new, "a/app.conf", "b/app.conf")
    assert callable(fragment)
    html = page("app.conf", fragment(diff))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            tab = browser.new_page(viewport={"width": 360, "height": 800})
            tab.set_content(html)
            lines = tab.eval_on_selector_all(  # the line boxes each number's text takes
                "td.no",
                """cells => cells.filter(c => c.textContent).map(c => {
                    const r = document.createRange(); r.selectNodeContents(c);
                    return r.getClientRects().length; })""",
            )
        finally:
            browser.close()
    assert lines, "no numbered lines in the page"
    assert max(lines) == 1, f"a line number wraps: line boxes per number {sorted(set(lines))}"
