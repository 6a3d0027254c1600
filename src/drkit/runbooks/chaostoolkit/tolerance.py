"""Chaos Toolkit tolerances: is a probe's output within what the hypothesis allows?

The rules of chaostoolkit-lib: ``true``/``false`` and text compare equal;
a number compares with the output's ``status`` (exit code, HTTP status);
a list holds the output's ``status`` when it has one, else two values are a
range; ``{type: regex, pattern, target}``, ``{type: jsonpath, path, expect,
count, target}`` and ``{type: range, range: [lo, hi], target}``. JSON paths
are full JSONPath with filters (``$.foo.*[?(@.baz)].baz``), read by
jsonpath-ng; a path that does not parse is refused when the experiment is
checked (:func:`check_tolerance`), so a dry run finds it.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext.parser import parse as parse_jsonpath

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
    if isinstance(value, dict) and "status" in value:
        return value["status"] in tolerance
    if len(tolerance) == 2 and all(isinstance(t, int | float) for t in tolerance):
        return isinstance(value, int | float) and tolerance[0] <= value <= tolerance[1]
    return value in tolerance


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
    values = [match.value for match in _compiled(tolerance).find(document)]
    if "expect" in tolerance:
        expect = tolerance["expect"]
        return bool(values == (expect if isinstance(expect, list) else [expect]))
    if tolerance.get("count") is not None:
        return bool(len(values) == tolerance["count"])
    return bool(values)


def _compiled(tolerance: dict[str, Any]) -> Any:
    path = str(tolerance.get("path", ""))
    try:
        return parse_jsonpath(path)
    except (JSONPathError, ValueError) as exc:
        raise RunbookInvalid(
            f"the JSON path {path!r} of a jsonpath tolerance does not parse: {exc}",
            hint="JSONPath as Chaos Toolkit documents it, e.g. $.foo.*[?(@.baz)].baz",
        ) from exc


def check_tolerance(tolerance: Any) -> None:
    """Refuse, before anything runs, a tolerance that could only fail at run time."""
    if isinstance(tolerance, dict) and tolerance.get("type") == "jsonpath":
        if "path" not in tolerance:
            raise RunbookInvalid("a jsonpath tolerance needs a 'path'")
        _compiled(tolerance)
    elif isinstance(tolerance, dict) and tolerance.get("type") not in (
        "regex",
        "jsonpath",
        "range",
    ):
        raise RunbookInvalid(
            f"tolerance type {tolerance.get('type')!r} is not supported",
            hint="use a value, a list, or regex / jsonpath / range tolerances",
        )


def _range(tolerance: dict[str, Any], value: Any) -> bool:
    low, high = tolerance.get("range", [None, None])
    try:
        return bool(Decimal(str(low)) <= Decimal(str(value)) <= Decimal(str(high)))
    except InvalidOperation:
        return False
