"""Reading ``key = value`` lines of any configuration format, with the key's path.

One parser serves normalisation (ignore keys) and redaction (secret keys)
for YAML, JSON, TOML, INI, env files, and ``key value`` formats such as
nginx, sshd or redis. It works line by line, so it also copes with files
that do not parse; the path of a key (``database.password``) comes from
indentation (YAML, pretty JSON) and ``[section]`` headers (INI, TOML).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KEY_LINE = re.compile(
    r"""^(?P<lead>[ \t]*(?:-[ \t]+)?(?:export[ \t]+)?)
        (?P<q>["']?)(?P<key>[A-Za-z0-9_][A-Za-z0-9_.\-]*)(?P=q)
        (?P<sep>[ \t]*:(?=[ \t]|$)[ \t]*|[ \t]*=[ \t]*|[ \t]+)
        (?P<value>.*?)(?P<trail>[ \t]*,?[ \t]*)$""",
    re.VERBOSE,
)
_SECTION = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$")
_COMMENT = re.compile(r"^\s*(#|;|//|<!--)")
BLOCK_OPENERS = frozenset({"", "|", "|-", "|+", ">", ">-", ">+", "{", "["})
"""Values after which the key's value continues on the more indented lines below."""


@dataclass(frozen=True)
class KeyLine:
    """A line holding one key and its value: ``line[value_start:value_end]`` is the value."""

    key: str
    path: str
    indent: int
    value_start: int
    value_end: int

    def value(self, line: str) -> str:
        return line[self.value_start : self.value_end]

    @property
    def opens_block(self) -> bool:
        return self.value_start == self.value_end

    def block_opener(self, line: str) -> bool:
        return self.value(line).strip() in BLOCK_OPENERS


def parse_key_line(line: str) -> tuple[str, int, int, int] | None:
    """(key, indent, value start, value end) of a key line, or None (comments, others)."""
    if _COMMENT.match(line):
        return None
    m = _KEY_LINE.match(line)
    if m is None:
        return None
    value = m.group("value")
    if m.group("sep").strip() == "" and not value:
        return None  # a lone word is not a key with a value
    return m.group("key"), len(m.group("lead")), m.start("value"), m.end("value")


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t-"))


@dataclass
class KeyPathTracker:
    """Feeds lines in order; tells each key line's dotted path."""

    section: str = ""
    _stack: list[tuple[int, str]] = field(default_factory=list)

    def feed(self, line: str) -> KeyLine | None:
        section = _SECTION.match(line)
        if section and not _COMMENT.match(line):
            self.section, self._stack = section.group(1), []
            return None
        parsed = parse_key_line(line)
        if parsed is None:
            return None
        key, indent, start, end = parsed
        while self._stack and self._stack[-1][0] >= indent:
            self._stack.pop()
        parts = [p for p in (self.section, *(k for _, k in self._stack), key) if p]
        found = KeyLine(key, ".".join(parts), indent, start, end)
        if found.block_opener(line):
            self._stack.append((indent, key))
        return found


def block_after(lines: list[str], start: int, indent: int) -> int:
    """Index after the lines below ``start`` indented deeper than ``indent`` (blank ones too)."""
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and indent_of(line) <= indent:
            break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # trailing blank lines belong to what follows
    return end
