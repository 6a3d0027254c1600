"""``${{ expression }}`` substitution in step arguments and outputs.

Strings anywhere in a step's ``with:`` (nested in mappings and lists too) may
hold ``${{ inputs.region }}`` or ``${{ steps.detect.outputs.lsn }}``; the
runner replaces each with the text of the expression (see :mod:`expr`) just
before the action's arguments are validated, so a value can also be typed
(``port: "${{ inputs.port }}"`` validates as an integer).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache

from pydantic import JsonValue

from drkit.runbooks import expr

PLACEHOLDER = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


@lru_cache(maxsize=1024)
def compiled(source: str) -> expr.Expr:
    """Parse an expression once; runbooks evaluate the same ones again and again."""
    return expr.parse(source.strip())


def substitute(value: JsonValue, variables: Mapping[str, str]) -> JsonValue:
    """``value`` with every ``${{ ... }}`` in its strings replaced by its text."""
    if isinstance(value, str):
        return render_text(value, variables)
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    return value


def render_text(text: str, variables: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: expr.render(compiled(m.group(1)), variables), text)


def expressions(value: JsonValue) -> Iterator[str]:
    """The source of every ``${{ ... }}`` inside ``value`` (for checks before a run)."""
    if isinstance(value, str):
        for match in PLACEHOLDER.finditer(value):
            yield match.group(1).strip()
    elif isinstance(value, list):
        for item in value:
            yield from expressions(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from expressions(item)


def has_placeholder(value: object) -> bool:
    if isinstance(value, str):
        return PLACEHOLDER.search(value) is not None
    if isinstance(value, list):
        return any(has_placeholder(item) for item in value)
    if isinstance(value, dict):
        return any(has_placeholder(item) for item in value.values())
    return False


def substitute_known(value: JsonValue, variables: Mapping[str, str]) -> JsonValue:
    """Like :func:`substitute`, but ``${{ }}`` reading unknown names stays as written.

    For dry runs and guides, where only the inputs are known.
    """
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: _known_or_kept(m, variables), value)
    if isinstance(value, list):
        return [substitute_known(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: substitute_known(item, variables) for key, item in value.items()}
    return value


def _known_or_kept(match: re.Match[str], variables: Mapping[str, str]) -> str:
    parsed = compiled(match.group(1))
    if expr.refs(parsed) <= set(variables):
        return expr.render(parsed, variables)
    return match.group(0)
