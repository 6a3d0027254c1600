"""Line diffs between two versions: one model, rendered for the terminal and as HTML.

:func:`diff_lines` takes lines that are already normalised and redacted
(see :mod:`drkit.confighistory.compare`) and groups the changes into hunks
with a few lines of context, as ``diff -u`` does. Side-by-side rows pair
removed and added lines of one change block, as Argo CD and GitHub show them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum

CONTEXT_LINES = 3


class LineKind(StrEnum):
    CONTEXT = " "
    ADDED = "+"
    REMOVED = "-"


@dataclass(frozen=True)
class DiffLine:
    kind: LineKind
    old_no: int | None  # 1-based line numbers; None on the side the line is not on
    new_no: int | None
    text: str


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: tuple[DiffLine, ...]

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_len} +{self.new_start},{self.new_len} @@"


@dataclass(frozen=True)
class TextDiff:
    """What changed from ``old_label`` to ``new_label``; ``binary`` when not text."""

    old_label: str
    new_label: str
    hunks: tuple[Hunk, ...]
    binary: bool = False
    binary_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.hunks) or self.binary_changed

    @property
    def stats(self) -> tuple[int, int]:
        """(added, removed) line counts."""
        lines = [line for hunk in self.hunks for line in hunk.lines]
        added = sum(1 for line in lines if line.kind is LineKind.ADDED)
        return added, sum(1 for line in lines if line.kind is LineKind.REMOVED)


@dataclass(frozen=True)
class SideBySideRow:
    old: DiffLine | None
    new: DiffLine | None


def diff_lines(
    old: list[str], new: list[str], old_label: str, new_label: str, context: int = CONTEXT_LINES
) -> TextDiff:
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    hunks = tuple(_hunk(group, old, new) for group in matcher.get_grouped_opcodes(context) if group)
    if len(hunks) == 1 and all(line.kind is LineKind.CONTEXT for line in hunks[0].lines):
        hunks = ()  # identical sequences still yield one all-context group
    return TextDiff(old_label, new_label, hunks)


def binary_diff(old: bytes, new: bytes, old_label: str, new_label: str) -> TextDiff:
    return TextDiff(old_label, new_label, (), binary=True, binary_changed=old != new)


def _hunk(group: list[tuple[str, int, int, int, int]], old: list[str], new: list[str]) -> Hunk:
    lines: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in group:
        if tag == "equal":
            lines += [
                DiffLine(LineKind.CONTEXT, i + 1, j1 + (i - i1) + 1, old[i]) for i in range(i1, i2)
            ]
            continue
        lines += [DiffLine(LineKind.REMOVED, i + 1, None, old[i]) for i in range(i1, i2)]
        lines += [DiffLine(LineKind.ADDED, None, j + 1, new[j]) for j in range(j1, j2)]
    first, last = group[0], group[-1]
    old_len, new_len = last[2] - first[1], last[4] - first[3]
    return Hunk(
        old_start=first[1] + 1 if old_len else first[1],
        old_len=old_len,
        new_start=first[3] + 1 if new_len else first[3],
        new_len=new_len,
        lines=tuple(lines),
    )


def unified_text(diff: TextDiff) -> str:
    """The diff as ``diff -u`` prints it (plain text, no colours)."""
    out = [f"--- {diff.old_label}", f"+++ {diff.new_label}"]
    if diff.binary:
        out.append("binary content differs" if diff.binary_changed else "binary content is equal")
    for hunk in diff.hunks:
        out.append(hunk.header)
        out += [f"{line.kind.value}{line.text}" for line in hunk.lines]
    return "\n".join(out) + "\n"


def side_by_side(hunk: Hunk) -> list[SideBySideRow]:
    """Rows of two columns: context on both sides; removed lines paired with added ones."""
    rows: list[SideBySideRow] = []
    removed: list[DiffLine] = []
    added: list[DiffLine] = []

    def flush() -> None:
        for i in range(max(len(removed), len(added))):
            rows.append(
                SideBySideRow(
                    removed[i] if i < len(removed) else None, added[i] if i < len(added) else None
                )
            )
        removed.clear()
        added.clear()

    for line in hunk.lines:
        if line.kind is LineKind.CONTEXT:
            flush()
            rows.append(SideBySideRow(line, line))
        elif line.kind is LineKind.REMOVED:
            if added:
                flush()
            removed.append(line)
        else:
            added.append(line)
    flush()
    return rows
