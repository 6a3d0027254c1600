"""Find, read and validate ``drkit.yaml``.

Every problem becomes a :class:`~drkit.errors.ConfigError` whose message names
the file and line: a missing file, text that is not UTF-8, YAML syntax errors
(``file:line:col``) and validation errors (``file:line: key.path: problem``,
all of them, one per line).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from drkit.errors import ConfigError
from drkit.settings._diagnostics import format_validation_error, format_yaml_error
from drkit.settings.model import Settings

_MISSING_HINT = (
    "create it (an empty file gives all defaults; e.g. a file containing `version: 1`), "
    "or point --config / DRKIT_CONFIG at an existing drkit.yaml"
)


def load_settings(path: Path) -> Settings:
    """Read, parse and validate the settings file at ``path``.

    An empty file is valid and gives all defaults. Raises ConfigError.
    """
    text = _read_text(path)
    document = _parse_yaml(path, text)
    return _validate(path, document)


def _read_text(path: Path) -> str:
    """The file's text, decoded as UTF-8 (a BOM is allowed)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: settings file not found", hint=_MISSING_HINT) from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}: is a directory, not a settings file") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read settings file: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not valid UTF-8 text") from exc


def _parse_yaml(path: Path, text: str) -> object:
    """Parse ``text`` with the round-trip loader, which keeps line positions."""
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        raise ConfigError(format_yaml_error(path, exc)) from exc
    except YAMLError as exc:
        raise ConfigError(_unmarked_yaml_error(path, text, exc)) from exc


def _unmarked_yaml_error(path: Path, text: str, exc: YAMLError) -> str:
    """Describe a YAML error without a mark (e.g. a forbidden character)."""
    problem = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        return f"{path}:{text[:position].count(chr(10)) + 1}: {problem}"
    return f"{path}: {problem}"


def _validate(path: Path, document: object) -> Settings:
    """Validate the parsed document against :class:`Settings`."""
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise ConfigError(
            f"{path}:1: the top level must be a mapping of settings "
            f"(such as `repositories:`), not {_kind(document)}"
        )
    try:
        return Settings.model_validate(to_plain(document))
    except ValidationError as exc:
        problems = format_validation_error(path, exc, document, Settings)
        raise ConfigError("\n".join(problems)) from exc


def _kind(value: object) -> str:
    """A few words naming what a YAML value is."""
    if isinstance(value, CommentedSeq):
        return "a list"
    return f"a single value ({value!r})"


def to_plain(node: object) -> object:
    """Copy a round-trip document into plain dicts, lists, str, int, float and bool."""
    if isinstance(node, CommentedMap):
        return {to_plain(key): to_plain(value) for key, value in node.items()}
    if isinstance(node, CommentedSeq):
        return [to_plain(item) for item in node]
    if isinstance(node, TaggedScalar):
        return node.value
    if isinstance(node, ScalarBoolean | bool):
        return bool(node)
    for plain in (str, int, float):
        if isinstance(node, plain):
            return plain(node)
    return node
