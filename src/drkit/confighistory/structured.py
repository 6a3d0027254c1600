"""Diffs by key for YAML, JSON, TOML and INI: which settings were added, removed or changed.

Both versions are parsed and flattened to ``dotted.path -> value`` (list
items as ``path[0]``); the key diff is the table of paths whose value
differs. Ignored keys are left out, secret values redacted by the same
:class:`~drkit.confighistory.redact.Redactor` as line diffs.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from drkit.confighistory.errors import StructureError
from drkit.confighistory.normalise import Normaliser
from drkit.confighistory.redact import Redactor


class FileFormat(StrEnum):
    YAML = "yaml"
    JSON = "json"
    TOML = "toml"
    INI = "ini"
    KEY_VALUE = "key-value"  # env files, postgresql.conf: KEY=VALUE / key = value lines


_SUFFIXES = {
    ".yaml": FileFormat.YAML,
    ".yml": FileFormat.YAML,
    ".json": FileFormat.JSON,
    ".toml": FileFormat.TOML,
    ".ini": FileFormat.INI,
    ".cfg": FileFormat.INI,
    ".cnf": FileFormat.INI,
}


_KEY_VALUE_NAMES = re.compile(
    r"(^\.env(\..+)?$|\.env$|\.properties$|^postgresql(\.auto)?\.conf$|^environment$)",
    re.IGNORECASE,
)


def detect_format(path: str) -> FileFormat | None:
    name = path.rpartition("/")[2]
    if _KEY_VALUE_NAMES.search(name):
        return FileFormat.KEY_VALUE
    dot = path.rfind(".")
    return _SUFFIXES.get(path[dot:].lower()) if dot > path.rfind("/") else None


_KV_LINE = re.compile(
    r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][\w.\-]*)\s*(?:=\s*|\s+)(?P<value>.*?)\s*$"
)


def parse_key_values(text: str) -> dict[str, str]:
    """KEY=VALUE lines (env files, ``export`` allowed) and ``key = value`` or ``key value``
    lines (postgresql.conf); ``#`` comments; quotes removed; a later key wins, as in
    PostgreSQL. A line that is neither is a ValueError naming its number."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _KV_LINE.match(line)
        if m is None:
            raise ValueError(f"line {number} is not KEY=VALUE: {line.strip()[:40]!r}")
        found[m.group("key")] = _unquote(m.group("value"))
    return found


def _unquote(value: str) -> str:
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = value.find(quote, 1)
        while end > 0 and quote == "'" and value[end + 1 : end + 2] == "'":  # '' inside '...'
            end = value.find(quote, end + 2)
        if end > 0:
            return value[1:end].replace("''", "'") if quote == "'" else value[1:end]
    return value.split(" #", 1)[0].split("\t#", 1)[0].rstrip()


class KeyChange(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class KeyRow:
    path: str
    change: KeyChange
    old: str | None
    new: str | None


@dataclass(frozen=True)
class KeyDiff:
    old_label: str
    new_label: str
    rows: tuple[KeyRow, ...]

    @property
    def changed(self) -> bool:
        return bool(self.rows)


def parse_flat(text: str, fmt: FileFormat, name: str) -> dict[str, str]:
    """``text`` parsed as ``fmt`` and flattened; StructureError naming ``name`` if it fails."""
    try:
        return flatten(_parse(text, fmt))
    except (YAMLError, ValueError, tomllib.TOMLDecodeError, configparser.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StructureError(f"{name} does not parse as {fmt.value.upper()}: {first}") from exc


def _parse(text: str, fmt: FileFormat) -> Any:
    if fmt is FileFormat.KEY_VALUE:
        return parse_key_values(text)
    if fmt is FileFormat.JSON:
        return json.loads(text) if text.strip() else {}
    if fmt is FileFormat.TOML:
        return tomllib.loads(text)
    if fmt is FileFormat.INI:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep key case
        parser.read_string(text)
        doc: dict[str, Any] = {name: dict(parser[name]) for name in parser.sections()}
        if parser.defaults():
            doc["DEFAULT"] = dict(parser.defaults())
        return doc
    documents = list(YAML(typ="safe", pure=True).load_all(text))
    return documents[0] if len(documents) == 1 else documents


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Scalars by dotted path; empty mappings and lists are values of their own."""
    out: dict[str, str] = {}
    if isinstance(value, dict) and value:
        for key, item in value.items():
            name = str(key)
            part = f'"{name}"' if "." in name else name
            out.update(flatten(item, f"{prefix}.{part}" if prefix else part))
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix] = _scalar(value)
    return out


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return str(value)


def diff_keys(
    old: dict[str, str],
    new: dict[str, str],
    old_label: str,
    new_label: str,
    *,
    normaliser: Normaliser,
    redactor: Redactor,
) -> KeyDiff:
    rows: list[KeyRow] = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after or normaliser.key_ignored(_plain_path(path)):
            continue
        change = (
            KeyChange.ADDED
            if before is None
            else KeyChange.REMOVED
            if after is None
            else KeyChange.CHANGED
        )
        shown_old, shown_new = redactor.value_pair(_plain_path(path), before, after)
        rows.append(KeyRow(path, change, shown_old, shown_new))
    return KeyDiff(old_label, new_label, tuple(rows))


def _plain_path(path: str) -> str:
    """``a.b[0].c`` -> ``a.b.c``: list positions do not name keys."""
    out, depth = [], 0
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0 and ch != '"':
            out.append(ch)
    return "".join(out)
