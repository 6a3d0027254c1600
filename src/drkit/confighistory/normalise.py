"""Normalisation: what counts as a change, and the content hash of a version.

Lines matching ``ignore_lines`` patterns (a generated-at timestamp, a
serial number) and keys matching ``ignore_keys`` globs (with everything
nested under them) are left out before hashing, so touching only them stores
no new version; diffs leave them out too. Line endings do not count. The
stored copy is always the file as it was, so a restore gives it back
byte for byte. Binary files are hashed as they are.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass

from drkit.confighistory.keylines import KeyPathTracker, block_after


def decode_text(content: bytes) -> str | None:
    """The content as text, or None when it is binary (NUL bytes, or not UTF-8)."""
    if b"\x00" in content:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class Normaliser:
    ignore_lines: tuple[str, ...] = ()
    ignore_keys: tuple[str, ...] = ()

    def key_ignored(self, path: str) -> bool:
        """Whether the key at dotted ``path`` (or a key it is nested in) is ignored."""
        if not self.ignore_keys:
            return False
        parts = path.split(".")
        prefixes = [".".join(parts[: i + 1]) for i in range(len(parts))]
        return any(
            fnmatch.fnmatchcase(name, pattern)
            for pattern in self.ignore_keys
            for name in (*parts, *prefixes)
        )

    def lines(self, text: str) -> list[str]:
        """The lines of ``text`` that count."""
        patterns = [re.compile(p) for p in self.ignore_lines]
        lines = text.splitlines()
        kept: list[str] = []
        tracker = KeyPathTracker()
        i = 0
        while i < len(lines):
            line = lines[i]
            key = tracker.feed(line)
            if key is not None and self.key_ignored(key.path):
                i = block_after(lines, i, key.indent) if key.block_opener(line) else i + 1
                continue
            if not any(p.search(line) for p in patterns):
                kept.append(line)
            i += 1
        return kept

    def digest(self, content: bytes) -> str:
        """SHA-256 of the normalised content (of the bytes, for binary files)."""
        text = decode_text(content)
        if text is None:
            return hashlib.sha256(content).hexdigest()
        return hashlib.sha256("\n".join(self.lines(text)).encode()).hexdigest()
