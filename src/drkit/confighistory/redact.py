"""Secret redaction: no listing, diff or page ever shows a secret value.

A secret is the value of a key that looks like one (``password``,
``token``, ``api_key``, ``secret``... and configured ``redact_keys`` globs),
a block under such a key (YAML block scalars, nested mappings, JSON
objects), such an XML element's text, a PEM private key, the password in a URL (``scheme://user:PW@``),
a well-known token shape (AWS key ids, GitHub and Slack tokens, Slack
webhooks), or a match of a configured ``redact_patterns`` expression.

Text is cut into segments, plain strings and :class:`Secret` values, and
rendered with a label in place of each secret. Comparing two versions, a
secret whose value differs between them (matched by its key path and
occurrence) is labelled ``<secret changed>``, so a diff shows that a secret
changed and never what it was or became. A secret with no counterpart on the
old side is on an added line, which says enough.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from drkit.confighistory.keylines import KeyPathTracker, block_after

SECRET = "<secret>"
CHANGED = "<secret changed>"

_SECRET_KEY = re.compile(
    r"(^|[-_.])pass([-_.]|$)|passw(or)?d|passphrase|secret|token|credential|cookie"
    r"|authorization|(api|access|secret|private|auth|encryption|signing|license|routing"
    r"|integration|master|client|session)[-_.]?key|apikey|requirepass|masterauth|webhook"
    r"|(^|[-_.])(pwd|psk|auth)$|dsn$|salt$",
    re.IGNORECASE,
)
# these name where a secret is kept, not the secret itself
_SECRET_LOCATION = re.compile(r"[-_.](file|path|env|dir)$", re.IGNORECASE)
# nginx's proxy_pass, fastcgi_pass, uwsgi_pass...: "pass" means "hand over to" an address
_PASS_DIRECTIVE = re.compile(r"[-_]pass$", re.IGNORECASE)
_ADDRESS = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*://[^\s@]+|unix:/[^\s@]+|[\w.\-\[\]]+:\d{1,5})")


def _value(opener: str) -> str:
    """A value: quoted; an opening bracket (then the whole {...} or [...] is the value);
    or up to a space, quote or ``&``, with an authorization scheme's token (``Bearer abc``).
    A word may take a closing bracket or comma with it: hiding too much is safe."""
    return (
        r'(?:"(?:[^"\\\n]|\\.)*"'
        r"|'[^'\n]*'"
        rf"|(?P<{opener}>[\[{{])"
        r"|(?:(?:Bearer|Basic|Token|Digest)\s+)?[^\s\"'&]+)"
    )


_INLINE_PAIR = re.compile(
    r"""(?P<q>["'])(?P<qkey>[^"'\n]{1,100})(?P=q)\s*:\s*(?P<qvalue>"""
    + _value("qopen")
    + r""")|(?<![\w.])(?P<key>[A-Za-z_][\w.\-]*)\s*(?:=|:\s)\s*(?P<value>"""
    + _value("open")
    + ")"
)
_XML_ELEMENT = re.compile(r"<(?P<tag>[\w.\-:]+)(?:\s[^<>]*)?>(?P<value>[^<]*)</(?P=tag)>")
_BUILTIN_VALUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("url", re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:(?P<secret>[^@/\s]+)@")),
    ("pem", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*-----|$)")),
    ("aws", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("slack", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("slack-hook", re.compile(r"hooks\.slack\.com/services/(?P<secret>[A-Za-z0-9/_\-]+)")),
    ("bearer", re.compile(r"\bBearer\s+(?P<secret>[A-Za-z0-9._~+/\-]{8,}=*)")),
)
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*-----")


@dataclass(frozen=True)
class Secret:
    """A secret value at a slot: where it is (key path or kind) and which occurrence."""

    slot: tuple[str, int]
    value: str


Segment = str | Secret
Line = tuple[Segment, ...]
Label = Callable[[Secret], str]


def render(line: Line, label: Label) -> str:
    return "".join(s if isinstance(s, str) else label(s) for s in line)


def _always_secret(_: Secret) -> str:
    return SECRET


@dataclass
class _Slots:
    """Counts occurrences per place, so the n-th secret under a key has a stable slot."""

    seen: dict[str, int] = field(default_factory=dict)

    def secret(self, where: str, value: str) -> Secret:
        n = self.seen.get(where, 0)
        self.seen[where] = n + 1
        return Secret((where, n), value)


@dataclass(frozen=True)
class Redactor:
    """Finds secrets; ``keys`` are extra key globs, ``patterns`` extra value expressions."""

    keys: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    # -- what is secret ----------------------------------------------------------
    def is_secret_key(self, path: str) -> bool:
        """Whether the key at dotted ``path``, or one it is nested in, holds a secret."""
        for part in path.split("."):
            if _SECRET_KEY.search(part) and not _SECRET_LOCATION.search(part):
                return True
            if any(fnmatch.fnmatchcase(part.lower(), g.lower()) for g in self.keys):
                return True
        return any(fnmatch.fnmatchcase(path.lower(), g.lower()) for g in self.keys)

    def _value_patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        configured = [(f"pattern{i}", re.compile(p)) for i, p in enumerate(self.patterns)]
        return [*_BUILTIN_VALUES, *configured]

    # -- cutting text into segments -------------------------------------------------
    def segments(self, lines: list[str]) -> list[Line]:
        """Each line cut into text and secrets; a secret block becomes one line."""
        out: list[Line] = []
        slots, tracker = _Slots(), KeyPathTracker()
        values = self._value_patterns()
        i = 0
        while i < len(lines):
            line = lines[i]
            if _PEM_BEGIN.search(line) and not _PEM_END.search(line):
                end = _pem_end(lines, i)
                start = _PEM_BEGIN.search(line)
                assert start is not None
                block = "\n".join([line[start.start() :], *lines[i + 1 : end]])
                out.append((line[: start.start()], slots.secret("pem", block)))
                i = end
                continue
            key = tracker.feed(line)
            if (
                key is not None
                and self.is_secret_key(key.path)
                and not _an_address(key.path, key.value(line))
            ):
                end = block_after(lines, i, key.indent) if key.block_opener(line) else i + 1
                value = "\n".join([key.value(line), *lines[i + 1 : end]])
                rest = line[key.value_end :]
                if end == i + 1 and value.endswith(";"):  # nginx: the ';' ends the directive
                    value, rest = value[:-1], ";" + rest
                out.append((line[: key.value_start], slots.secret(f"key:{key.path}", value), rest))
                i = end
                continue
            context = key.path if key is not None else tracker.section
            out.append(self._inline(line, context, slots, values))
            i += 1
        return out

    def _inline(
        self,
        line: str,
        context: str,
        slots: _Slots,
        values: list[tuple[str, re.Pattern[str]]],
    ) -> Line:
        parts: list[Segment] = [line]
        parts = _split(parts, _INLINE_PAIR, lambda m: self._pair_secret(m, context, slots))
        parts = _split(parts, _XML_ELEMENT, lambda m: self._element_secret(m, context, slots))
        for kind, pattern in values:
            parts = _split(
                parts, pattern, partial(_value_secret, kind=kind, context=context, slots=slots)
            )
        return tuple(parts)

    def _pair_secret(
        self, m: re.Match[str], context: str, slots: _Slots
    ) -> tuple[int, int, Secret] | None:
        quoted = m.group("qkey") is not None
        key = m.group("qkey") if quoted else m.group("key")
        group, opener = ("qvalue", "qopen") if quoted else ("value", "open")
        if not self.is_secret_key(key) or _an_address(key, m.group(group)):
            return None
        start, end = m.start(group), m.end(group)
        if m.group(opener) is not None:
            end = _closing(m.string, start)
        path = f"{context}.{key}" if context else key
        return start, end, slots.secret(f"key:{path}", m.string[start:end])

    def _element_secret(
        self, m: re.Match[str], context: str, slots: _Slots
    ) -> tuple[int, int, Secret] | None:
        tag = m.group("tag").rpartition(":")[2]  # without an XML namespace prefix
        if not self.is_secret_key(tag):
            return None
        path = f"{context}.{tag}" if context else tag
        return m.start("value"), m.end("value"), slots.secret(f"key:{path}", m.group("value"))

    # -- rendering -----------------------------------------------------------------
    def show(self, lines: list[str]) -> list[str]:
        """The lines with every secret replaced by ``<secret>``."""
        return [render(line, _always_secret) for line in self.segments(lines)]

    def pair(self, old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
        """Both sides redacted; a new-side secret that differs from the old is ``CHANGED``."""
        old_lines, new_lines = self.segments(old), self.segments(new)
        before = {s.slot: s.value for line in old_lines for s in line if isinstance(s, Secret)}

        def label(secret: Secret) -> str:
            old_value = before.get(secret.slot)
            return CHANGED if old_value is not None and old_value != secret.value else SECRET

        return (
            [render(line, _always_secret) for line in old_lines],
            [render(line, label) for line in new_lines],
        )

    def value_pair(
        self, path: str, old: str | None, new: str | None
    ) -> tuple[str | None, str | None]:
        """One key's values, redacted: wholly if the key is secret, else by value patterns."""
        if self.is_secret_key(path):
            changed = old is not None and new is not None and new != old
            return (
                None if old is None else SECRET,
                None if new is None else (CHANGED if changed else SECRET),
            )
        old_lines, new_lines = self.pair(_split_lines(old), _split_lines(new))
        return (
            None if old is None else "\n".join(old_lines),
            None if new is None else "\n".join(new_lines),
        )


def _split_lines(value: str | None) -> list[str]:
    return [] if value is None else value.split("\n")


def _an_address(path: str, value: str) -> bool:
    """A ``*_pass`` directive naming where to pass requests (a URL without credentials, a
    socket, host:port): no secret. A password inside a URL is still found by value."""
    if not _PASS_DIRECTIVE.search(path.rpartition(".")[2]):
        return False
    bare = value.strip().rstrip(";").strip("\"'")
    return _ADDRESS.fullmatch(bare) is not None


def _split(
    parts: Iterable[Segment],
    pattern: re.Pattern[str],
    found: Callable[[re.Match[str]], tuple[int, int, Secret] | None],
) -> list[Segment]:
    """Cut every text segment at the matches ``found`` accepts; secrets stay as they are.

    After a match ``found`` rejects, the search goes on from the next character, not
    after the match: ``url = https://x/?token=abc`` holds a secret inside a rejected
    ``url = ...`` pair.
    """
    out: list[Segment] = []
    for part in parts:
        if not isinstance(part, str):
            out.append(part)
            continue
        pos = search = 0
        while (m := pattern.search(part, search)) is not None:
            hit = found(m)
            if hit is None:
                search = m.start() + 1
                continue
            start, end, secret = hit
            out += [part[pos:start], secret]
            pos = search = max(end, start + 1)
        out.append(part[pos:])
    return [p for p in out if p != ""]


def _closing(text: str, start: int) -> int:
    """Index after the bracket closing the one at ``start`` (quotes respected), or the end."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            quote = "" if ch == quote and text[i - 1] != "\\" else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def _value_secret(
    m: re.Match[str], *, kind: str, context: str, slots: _Slots
) -> tuple[int, int, Secret]:
    group: int | str = 0
    if "secret" in m.re.groupindex:
        group = "secret"
    elif m.re.groups and kind.startswith("pattern") and m.group(1) is not None:
        group = 1
    return m.start(group), m.end(group), slots.secret(f"{kind}:{context}", m.group(group))


def _pem_end(lines: list[str], start: int) -> int:
    """Index after the line ending the PEM block that starts at ``start`` (or the end)."""
    for i in range(start + 1, len(lines)):
        if _PEM_END.search(lines[i]):
            return i + 1
    return len(lines)
