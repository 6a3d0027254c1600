"""From stored contents to what a person may see: normalised, redacted lines and diffs.

Everything shown about a version's content passes through here, so this is
where the promise "no secret value in any output" is kept: each function
returns text only after :class:`~drkit.confighistory.redact.Redactor` ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from drkit.confighistory.diff import TextDiff, binary_diff, diff_lines
from drkit.confighistory.drkit_state import DrkitState
from drkit.confighistory.errors import StructureError
from drkit.confighistory.model import Scope
from drkit.confighistory.normalise import decode_text
from drkit.confighistory.rules import ScopeRules
from drkit.confighistory.structured import KeyDiff, detect_format, diff_keys, parse_flat


def digest(scope: Scope, rules: ScopeRules, content: bytes) -> str:
    """The content hash that decides whether ``content`` is a new version of ``scope``."""
    if scope.is_drkit:
        return DrkitState.from_content(content).digest()
    return rules.normaliser.digest(content)


def _lines(scope: Scope, rules: ScopeRules, content: bytes | None) -> list[str] | None:
    """Normalised lines (not yet redacted); [] for an absent file, None for binary."""
    if content is None:
        return []
    if scope.is_drkit:
        return DrkitState.from_content(content).render_lines()
    text = decode_text(content)
    return None if text is None else rules.normaliser.lines(text)


def shown_lines(scope: Scope, rules: ScopeRules, content: bytes) -> list[str] | None:
    """The content as it may be shown: normalised and redacted; None when binary."""
    lines = _lines(scope, rules, content)
    return None if lines is None else rules.redactor.show(lines)


@dataclass(frozen=True)
class Side:
    """One side of a diff: whose content it is, its rules, the content (None: absent)."""

    scope: Scope
    rules: ScopeRules
    content: bytes | None
    label: str


def text_diff(old: Side, new: Side) -> TextDiff:
    """Line diff of two contents, redacted with both sides' rules."""
    old_lines = _lines(old.scope, old.rules, old.content)
    new_lines = _lines(new.scope, new.rules, new.content)
    if old_lines is None or new_lines is None:
        return binary_diff(old.content or b"", new.content or b"", old.label, new.label)
    shown_old, shown_new = old.rules.merged(new.rules).pair(old_lines, new_lines)
    return diff_lines(shown_old, shown_new, old.label, new.label)


def key_diff(old: Side, new: Side) -> KeyDiff:
    """Diff by key: both sides must be drkit's configuration or YAML/JSON/TOML/INI files."""
    return diff_keys(
        _flat(old.scope, old.content),
        _flat(new.scope, new.content),
        old.label,
        new.label,
        normaliser=new.rules.normaliser,
        redactor=old.rules.merged(new.rules),
    )


def _flat(scope: Scope, content: bytes | None) -> dict[str, str]:
    if content is None:
        return {}
    if scope.is_drkit:
        return DrkitState.from_content(content).flatten()
    fmt = detect_format(scope.path)
    if fmt is None:
        raise StructureError(
            f"{scope.display} is not a YAML, JSON, TOML, INI or key-value file (by its name: "
            "*.env, .env*, *.properties, postgresql.conf)"
        )
    text = decode_text(content)
    if text is None:
        raise StructureError(f"{scope.display} is binary")
    return parse_flat(text, fmt, scope.display)
