"""The same diffs as a standalone HTML page (``--html FILE``), or a fragment for the dashboard.

Every piece of text is HTML-escaped; the page has no script and no external
resource, so it can be mailed or attached to a ticket as it is.
"""

from __future__ import annotations

from html import escape

from drkit.confighistory.diff import DiffLine, LineKind, TextDiff, side_by_side
from drkit.confighistory.structured import KeyDiff

_CLASS = {LineKind.ADDED: "add", LineKind.REMOVED: "del", LineKind.CONTEXT: "ctx"}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1f2328; }
h1 { font-size: 1.2rem; }
table.drkit-diff { border-collapse: collapse; width: 100%; font-family: ui-monospace,
  SFMono-Regular, Menlo, monospace; font-size: 0.85rem; }
table.drkit-diff td, table.drkit-diff th { padding: 0 0.5rem; vertical-align: top;
  white-space: pre-wrap; word-break: break-all; text-align: left; }
table.drkit-diff th { background: #f6f8fa; border-bottom: 1px solid #d0d7de; }
table.drkit-diff td.no { color: #6e7781; text-align: right; user-select: none; width: 1%;
  white-space: nowrap; word-break: normal; }
tr.hunk td { background: #ddf4ff; color: #0550ae; }
.add { background: #e6ffec; } .del { background: #ffebe9; } .chg { background: #fff8c5; }
.labels { color: #57606a; margin-bottom: 1rem; }
"""


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _labels(old: str, new: str) -> str:
    return (
        f'<div class="labels"><span class="del">--- {escape(old)}</span><br>'
        f'<span class="add">+++ {escape(new)}</span></div>\n'
    )


def unified_fragment(diff: TextDiff) -> str:
    rows = []
    if diff.binary:
        rows.append(_binary_row(diff, 3))
    for hunk in diff.hunks:
        rows.append(f'<tr class="hunk"><td colspan="3">{escape(hunk.header)}</td></tr>')
        for line in hunk.lines:
            rows.append(
                f'<tr class="{_CLASS[line.kind]}"><td class="no">{line.old_no or ""}</td>'
                f'<td class="no">{line.new_no or ""}</td>'
                f"<td>{escape(line.kind.value + line.text)}</td></tr>"
            )
    table = '<table class="drkit-diff">\n' + "\n".join(rows) + "\n</table>"
    return _labels(diff.old_label, diff.new_label) + table


def side_by_side_fragment(diff: TextDiff) -> str:
    rows = [
        f"<tr><th></th><th>{escape(diff.old_label)}</th><th></th>"
        f"<th>{escape(diff.new_label)}</th></tr>"
    ]
    if diff.binary:
        rows.append(_binary_row(diff, 4))
    for hunk in diff.hunks:
        rows.append(f'<tr class="hunk"><td colspan="4">{escape(hunk.header)}</td></tr>')
        for row in side_by_side(hunk):
            rows.append(f"<tr>{_half(row.old, old=True)}{_half(row.new, old=False)}</tr>")
    return '<table class="drkit-diff">\n' + "\n".join(rows) + "\n</table>"


def _half(line: DiffLine | None, *, old: bool) -> str:
    if line is None:
        return '<td class="no"></td><td></td>'
    number = line.old_no if old else line.new_no
    return (
        f'<td class="no">{number or ""}</td>'
        f'<td class="{_CLASS[line.kind]}">{escape(line.text)}</td>'
    )


def _binary_row(diff: TextDiff, span: int) -> str:
    what = "binary content differs" if diff.binary_changed else "binary content is equal"
    return f'<tr><td colspan="{span}">{what}</td></tr>'


def key_fragment(diff: KeyDiff) -> str:
    rows = [
        "<tr><th>key</th><th>change</th>"
        f"<th>{escape(diff.old_label)}</th><th>{escape(diff.new_label)}</th></tr>"
    ]
    for row in diff.rows:
        css = {"added": "add", "removed": "del", "changed": "chg"}[row.change.value]
        rows.append(
            f'<tr class="{css}"><td>{escape(row.path)}</td><td>{row.change.value}</td>'
            f"<td>{escape(row.old or '')}</td><td>{escape(row.new or '')}</td></tr>"
        )
    return '<table class="drkit-diff">\n' + "\n".join(rows) + "\n</table>"
