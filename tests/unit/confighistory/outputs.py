"""Every way drkit shows a version or a diff, as text, for "no secret anywhere" checks."""

from __future__ import annotations

import io
import json

from rich.console import Console

from drkit.confighistory import compare, html, render, views
from drkit.confighistory.compare import Side
from drkit.confighistory.errors import StructureError
from drkit.confighistory.model import Scope
from drkit.confighistory.rules import ScopeRules


def rich_text(renderable: object) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=160, force_terminal=True, color_system="truecolor").print(renderable)
    return buffer.getvalue()


def every_output(scope: Scope, rules: ScopeRules, old: bytes, new: bytes) -> str:
    """Listing, unified, side by side, HTML pages, JSON, and by key when the format has keys."""
    a, b = Side(scope, rules, old, "old"), Side(scope, rules, new, "new")
    diff = compare.text_diff(a, b)
    parts = [
        "\n".join(compare.shown_lines(scope, rules, old) or []),
        "\n".join(compare.shown_lines(scope, rules, new) or []),
        rich_text(render.unified(diff)),
        rich_text(render.two_columns(diff)),
        html.page("t", html.unified_fragment(diff)),
        html.page("t", html.side_by_side_fragment(diff)),
        json.dumps(views.text_diff_doc(diff)),
    ]
    try:
        keys = compare.key_diff(a, b)
    except StructureError:
        return "\n".join(parts)
    parts += [
        rich_text(render.key_table(keys)),
        html.page("t", html.key_fragment(keys)),
        json.dumps(views.key_diff_doc(keys)),
    ]
    return "\n".join(parts)
