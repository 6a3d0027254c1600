"""Chaos Toolkit tolerances: is a probe's output within what the hypothesis allows?

The rules of chaostoolkit-lib: ``true``/``false`` and text compare equal;
a number compares with the output's ``status`` (exit code, HTTP status);
a list of values holds the status (two numbers: a range); ``{type: regex,
pattern, target}``, ``{type: jsonpath, path, expect, count, target}`` and
``{type: range, range: [lo, hi], target}``. JSON paths here are the simple
``$.a.b[0]`` form (see :mod:`drkit.runbooks.actions.jsonpath`).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from drkit.runbooks.actions.jsonpath import lookup
from drkit.runbooks.errors import RunbookInvalid


def within_tolerance(tolerance: Any, value: Any) -> bool:
    if isinstance(tolerance, bool | str):
        return bool(value == tolerance)
    if isinstance(tolerance, int | float):
        return bool(_status(value) == tolerance)
    if isinstance(tolerance, list):
        return _in_list(tolerance, value)
    if isinstance(tolerance, dict):
        return _typed(tolerance, value)
    raise RunbookInvalid(f"unsupported tolerance {tolerance!r}")


def _status(value: Any) -> Any:
    return value["status"] if isinstance(value, dict) and "status" in value else value


def _in_list(tolerance: list[Any], value: Any) -> bool:
    found = _status(value)
    if len(tolerance) == 2 and all(isinstance(t, int | float) for t in tolerance):
        return isinstance(found, int | float) and tolerance[0] <= found <= tolerance[1]
    return found in tolerance


def _typed(tolerance: dict[str, Any], value: Any) -> bool:
    kind = tolerance.get("type")
    target = tolerance.get("target")
    if target and isinstance(value, dict):
        value = value.get(target, value)
    if kind == "regex":
        text = value if isinstance(value, str) else json.dumps(value)
        return re.search(str(tolerance.get("pattern", "")), text) is not None
    if kind == "jsonpath":
        return _jsonpath(tolerance, value)
    if kind == "range":
        return _range(tolerance, value)
    raise RunbookInvalid(
        f"tolerance type {kind!r} is not supported",
        hint="use a value, a list, or regex / jsonpath / range tolerances",
    )


def _jsonpath(tolerance: dict[str, Any], value: Any) -> bool:
    document = value
    if isinstance(value, str):
        try:
            document = json.loads(value)
        except json.JSONDecodeError:
            return False
    found = lookup(document, str(tolerance.get("path", "")))
    values = [] if found is None else [_parsed(found)]
    if "expect" in tolerance:
        expect = tolerance["expect"]
        return bool(values == (expect if isinstance(expect, list) else [expect]))
    if "count" in tolerance:
        return bool(len(values) == tolerance["count"])
    return bool(values)


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _range(tolerance: dict[str, Any], value: Any) -> bool:
    low, high = tolerance.get("range", [None, None])
    try:
        return bool(Decimal(str(low)) <= Decimal(str(value)) <= Decimal(str(high)))
    except InvalidOperation:
        return False
