"""Diffs and contents for the terminal, with Rich colours (stdout; no colour when piped).

Unified: ``---``/``+++`` labels, cyan hunk headers, removed lines red,
added lines green. Side by side: a table with line numbers, the old text
left and the new right, changed pairs on one row, each line marked ``-``,
``+`` or `` `` as in the unified diff (the marks show without colour). By key: a table of the
setting paths that were added, removed or changed, and their values.
Everything rendered here was redacted before (see :mod:`.compare`).
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from drkit.confighistory.diff import DiffLine, LineKind, TextDiff, side_by_side
from drkit.confighistory.jobs import CollectionResult
from drkit.confighistory.log_view import VERSION_COLUMNS as VERSION_COLUMNS
from drkit.confighistory.log_view import version_table as version_table
from drkit.confighistory.structured import KeyChange, KeyDiff

_STYLES = {LineKind.ADDED: "green", LineKind.REMOVED: "red", LineKind.CONTEXT: ""}
_KEY_STYLES = {KeyChange.ADDED: "green", KeyChange.REMOVED: "red", KeyChange.CHANGED: "yellow"}


def unified(diff: TextDiff) -> Text:
    out = Text()
    out.append(f"--- {diff.old_label}\n", style="bold red")
    out.append(f"+++ {diff.new_label}\n", style="bold green")
    if diff.binary:
        out.append("binary content " + ("differs" if diff.binary_changed else "is equal") + "\n")
    for hunk in diff.hunks:
        out.append(hunk.header + "\n", style="cyan")
        for line in hunk.lines:
            out.append(f"{line.kind.value}{line.text}\n", style=_STYLES[line.kind])
    return out


def two_columns(diff: TextDiff) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
    table.add_column("", justify="right", style="dim", no_wrap=True)
    table.add_column(diff.old_label, overflow="fold", ratio=1)
    table.add_column("", justify="right", style="dim", no_wrap=True)
    table.add_column(diff.new_label, overflow="fold", ratio=1)
    if diff.binary:
        table.add_row("", "binary content", "", "differs" if diff.binary_changed else "is equal")
    for i, hunk in enumerate(diff.hunks):
        if i:
            table.add_row("", Text("⋯", style="cyan"), "", Text("⋯", style="cyan"))
        for row in side_by_side(hunk):
            table.add_row(*_cell(row.old, old=True), *_cell(row.new, old=False))
    return table


def _cell(line: DiffLine | None, *, old: bool) -> tuple[str, Text]:
    if line is None:
        return "", Text("")
    number = line.old_no if old else line.new_no
    # the +/- marker as in the unified diff: piped output has no colour to show the change
    return str(number or ""), Text(f"{line.kind.value}{line.text}", style=_STYLES[line.kind])


def key_table(diff: KeyDiff) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
    table.add_column("key", overflow="fold", ratio=2)
    table.add_column("change", no_wrap=True)
    table.add_column(diff.old_label, overflow="fold", ratio=2)
    table.add_column(diff.new_label, overflow="fold", ratio=2)
    for row in diff.rows:
        style = _KEY_STYLES[row.change]
        table.add_row(
            row.path,
            Text(row.change.value, style=style),
            Text(row.old if row.old is not None else "", style="red"),
            Text(row.new if row.new is not None else "", style="green"),
        )
    return Group(table) if diff.rows else Text("no setting differs\n")


def collection_report(result: CollectionResult) -> Text:
    """What a collection stored, what failed (named by host and path), and what it pushed."""
    out = Text()
    out.append(f"drkit configuration: {_stored(result.drkit_version)}\n")
    for report in result.sources:
        stored = [f for f in report.files if f.version is not None]
        out.append(f"source {report.source}: {len(report.files)} files, ")
        out.append(f"{len(stored)} new versions\n")
        for f in stored:
            out.append(f"  {f.status.value:9} {f.scope.display} #{f.version}\n")
        for failure in report.failures:
            out.append("  failed    ", style="red")
            out.append(f"{failure.where}: {failure.error}\n")
    if result.removed:
        out.append(f"retention removed {result.removed} versions\n")
    for p in result.pushes:
        what = "unchanged" if p.skipped else f"snapshot {(p.snapshot or '')[:8]}"
        out.append(f"pushed to {p.repository}: {what}\n")
    return out


def _stored(version: int | None) -> str:
    return f"#{version}" if version else "unchanged"
