"""Line diffs: hunks, side-by-side rows, coloured terminal output and the HTML page."""

from __future__ import annotations

from drkit.confighistory import html, render
from drkit.confighistory.diff import LineKind, binary_diff, diff_lines, side_by_side, unified_text
from tests.unit.confighistory.outputs import rich_text

OLD = [f"line {i}" for i in range(1, 21)]
NEW = [*OLD[:4], "line 5 changed", *OLD[5:17], *OLD[18:], "line 21"]


def test_hunks_with_three_lines_of_context_like_diff_u() -> None:
    diff = diff_lines(OLD, NEW, "a", "b")
    assert [h.header for h in diff.hunks] == ["@@ -2,7 +2,7 @@", "@@ -15,6 +15,6 @@"]
    assert diff.stats == (2, 2)
    text = unified_text(diff)
    assert text.startswith("--- a\n+++ b\n@@ -2,7 +2,7 @@\n line 2\n")
    assert "-line 5\n+line 5 changed\n" in text
    assert "-line 18\n" in text and "+line 21\n" in text


def test_identical_content_has_no_hunks() -> None:
    diff = diff_lines(OLD, list(OLD), "a", "b")
    assert not diff.changed and diff.hunks == ()


def test_additions_to_an_empty_file() -> None:
    diff = diff_lines([], ["x", "y"], "a", "b")
    assert [h.header for h in diff.hunks] == ["@@ -0,0 +1,2 @@"]


def test_side_by_side_pairs_removed_and_added_lines() -> None:
    diff = diff_lines(["a", "b", "c"], ["a", "B", "B2", "c"], "old", "new")
    rows = side_by_side(diff.hunks[0])
    pairs = [(r.old.text if r.old else None, r.new.text if r.new else None) for r in rows]
    assert pairs == [("a", "a"), ("b", "B"), (None, "B2"), ("c", "c")]
    assert rows[1].old is not None and rows[1].old.kind is LineKind.REMOVED
    assert rows[1].new is not None and (rows[1].new.old_no, rows[1].new.new_no) == (None, 2)


def test_terminal_output_is_coloured() -> None:
    diff = diff_lines(["keep", "old"], ["keep", "new"], "v1", "v2")
    unified = rich_text(render.unified(diff))
    assert "\x1b[31m-old" in unified and "\x1b[32m+new" in unified  # red and green
    columns = rich_text(render.two_columns(diff))
    assert "v1" in columns and "v2" in columns
    assert "\x1b[31m-old" in columns and "\x1b[32m+new" in columns


def test_piped_side_by_side_marks_the_changes_without_colour() -> None:
    from rich.console import Console

    diff = diff_lines(["keep", "old"], ["keep", "new"], "v1", "v2")
    console = Console(width=80, color_system=None, force_terminal=False)
    with console.capture() as captured:
        console.print(render.two_columns(diff))
    plain = captured.get()
    assert "\x1b[" not in plain
    assert "-old" in plain and "+new" in plain and " keep" in plain


def test_html_page_escapes_everything_and_stands_alone() -> None:
    diff = diff_lines(["<b>a</b> & 'q'"], ['<script>alert("x")</script>'], "<v1>", "v2 & co")
    for fragment in (html.unified_fragment(diff), html.side_by_side_fragment(diff)):
        page = html.page("diff <of> things", fragment)
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
        assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)" in page
        assert "&lt;b&gt;a&lt;/b&gt; &amp; &#x27;q&#x27;" in page
        assert "&lt;v1&gt;" in page and "v2 &amp; co" in page
        assert "diff &lt;of&gt; things" in page
        assert "http" not in page  # nothing external: no scripts, fonts or stylesheets
        assert 'class="del"' in page and 'class="add"' in page


def test_binary_content() -> None:
    diff = binary_diff(b"\x00a", b"\x00b", "a", "b")
    assert diff.changed and diff.binary
    assert "binary content differs" in unified_text(diff)
    assert "binary content differs" in html.unified_fragment(diff)
    assert not binary_diff(b"\x00", b"\x00", "a", "b").changed


def test_html_line_numbers_never_wrap() -> None:
    import re

    from drkit.confighistory.html import STYLE

    rule = re.search(r"td\.no \{([^}]*)\}", STYLE)
    assert rule is not None
    assert "white-space: nowrap" in rule.group(1) and "word-break: normal" in rule.group(1)
