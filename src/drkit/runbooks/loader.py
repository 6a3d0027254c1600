"""Read a runbook file: YAML with every problem reported at ``file:line``.

Parsing uses ruamel's round-trip loader, which remembers where every key and
list item starts; pydantic's errors and the cross-step checks of
:mod:`drkit.runbooks.check` are both turned into ``file:line: where: problem``
lines, all of them at once, in one :class:`RunbookInvalid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from drkit.runbooks.check import problems
from drkit.runbooks.errors import RunbookInvalid
from drkit.runbooks.model import Runbook
from drkit.settings._diagnostics import (
    dotted,
    format_validation_error,
    format_yaml_error,
    line_of,
)
from drkit.settings.loader import to_plain


@dataclass(frozen=True)
class LoadedRunbook:
    """A valid runbook with the text it was read from."""

    runbook: Runbook
    path: Path
    text: str

    @property
    def name(self) -> str:
        return self.runbook.name

    @property
    def version(self) -> str:
        return self.runbook.version


def load_runbook(path: Path) -> LoadedRunbook:
    """Read and check the runbook file at ``path``; raise RunbookInvalid listing every problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise RunbookInvalid(f"{path}: no such runbook file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RunbookInvalid(f"{path}: cannot read the runbook: {exc}") from exc
    return parse_runbook(text, path)


def parse_runbook(text: str, path: Path) -> LoadedRunbook:
    """Check ``text`` (the content of ``path``) as a runbook."""
    document = _parse_yaml(text, path)
    try:
        runbook = Runbook.model_validate(to_plain(document))
    except ValidationError as exc:
        lines = format_validation_error(path, exc, document, Runbook)
        raise RunbookInvalid("\n".join(lines)) from exc
    found = problems(runbook)
    if found:
        located = sorted((line_of(document, p.loc), dotted(p.loc), p.message) for p in found)
        lines = [f"{path}:{n}: {where}: {what}" for n, where, what in located]
        raise RunbookInvalid("\n".join(lines))
    return LoadedRunbook(runbook, path, text)


def _parse_yaml(text: str, path: Path) -> CommentedMap:
    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        raise RunbookInvalid(format_yaml_error(path, exc)) from exc
    except YAMLError as exc:
        raise RunbookInvalid(f"{path}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(document, CommentedMap):
        raise RunbookInvalid(
            f"{path}:1: a runbook is a mapping with name, steps and more",
            hint="see docs/runbooks.md for the format; `drkit runbook schema` prints it",
        )
    return document
