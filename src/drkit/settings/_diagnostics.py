"""Turn YAML and pydantic errors into ``file:line: key.path: problem`` lines.

The round-trip loader of ruamel.yaml records where every key and list item
starts (``.lc``); a pydantic error's ``loc`` is walked through that document to
find the line of the offending key or item, falling back to the nearest parent
that has a position.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

Loc = Sequence[str | int]

_DICT_KEY_MARKER = "[key]"
"""The ``loc`` element pydantic appends when a dict *key* failed validation."""

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")

_VALUE_IN_MESSAGE = frozenset({"missing", "settings_version", "password_conflict"})
"""Error types whose message already names the value (or has none to name)."""

_MESSAGES = {
    "missing": "required key is missing",
    "model_type": "input should be a mapping of keys to values",
    "model_attributes_type": "input should be a mapping of keys to values",
    "dict_type": "input should be a mapping of keys to values",
    "list_type": "input should be a list",
    "path_type": "input should be a path",
}
"""Clearer wording for pydantic messages that speak of Python types."""

_MAX_SHOWN_VALUE = 60


def format_yaml_error(path: Path, exc: MarkedYAMLError) -> str:
    """Describe a YAML syntax error as ``file:line:col: problem (context)``."""
    mark = exc.problem_mark or exc.context_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else f"{path}"
    problem = exc.problem or exc.context or "invalid YAML"
    text = f"{where}: {problem}"
    if exc.problem and exc.context:
        text += f" ({exc.context}{_context_position(exc)})"
    return text


def _context_position(exc: MarkedYAMLError) -> str:
    """`` at line N`` for the context mark of a YAML error, if it has one."""
    mark = exc.context_mark
    return f" at line {mark.line + 1}" if mark is not None else ""


def format_validation_error(
    path: Path, exc: ValidationError, document: object, model: type[BaseModel]
) -> list[str]:
    """One ``file:line: key.path: problem`` line per pydantic error, sorted by line."""
    problems: list[tuple[int, str]] = []
    for error in exc.errors():
        loc = error["loc"]
        line = line_of(document, loc)
        problems.append((line, f"{path}:{line}: {dotted(loc)}: {describe(error, model)}"))
    problems.sort(key=lambda problem: problem[0])
    return [text for _, text in problems]


def line_of(document: object, loc: Loc) -> int:
    """1-based line of the node at ``loc``, or of its nearest parent with a position."""
    line = 1
    node = document
    for part in loc:
        position = _line_in(node, part)
        if position is None:
            break
        line = position + 1
        node = node[part]  # type: ignore[index]
    return line


def _line_in(node: object, part: str | int) -> int | None:
    """0-based line where key or item ``part`` of ``node`` starts, if recorded."""
    if isinstance(node, CommentedMap | CommentedSeq):
        recorded = node.lc.data.get(part)
        if recorded:
            return int(recorded[0])
    return None


def dotted(loc: Loc) -> str:
    """Render a ``loc`` as ``repositories.offsite.media`` or ``backup.excludes[1]``."""
    text = ""
    for part in loc:
        if part == _DICT_KEY_MARKER:
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "(top level)"


def describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    """The problem of one pydantic error, starting lowercase, with the bad value."""
    if error["type"] == "extra_forbidden":
        return _unknown_key(error["loc"], model)
    message = _MESSAGES.get(error["type"], error["msg"])
    message = message[:1].lower() + message[1:]
    value = error.get("input")
    if error["type"] in _VALUE_IN_MESSAGE or isinstance(value, dict | list):
        return message
    return f"{message} (got {show_value(value)})"


def show_value(value: object) -> str:
    """A short YAML-flavoured rendering of a scalar value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > _MAX_SHOWN_VALUE:
        text = text[: _MAX_SHOWN_VALUE - 3] + "..."
    return text


def _unknown_key(loc: Loc, model: type[BaseModel]) -> str:
    """Name the unknown key and suggest the closest allowed one."""
    owner = model_at(model, loc[:-1])
    if owner is None:
        return "unknown key"
    allowed = list(owner.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; expected one of: {', '.join(allowed)}"


def model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc`` inside ``model``."""
    current: Any = model
    for part in loc:
        current = _child_type(current, part)
        if current is None:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _child_type(annotation: Any, part: str | int) -> Any:
    """The type of member ``part`` of a model, dict or list annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field is not None else None
    origin = get_origin(annotation)
    if origin is dict:
        return get_args(annotation)[1]
    if origin is list:
        return get_args(annotation)[0]
    return None
