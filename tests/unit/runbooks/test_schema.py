"""The published JSON Schema: the checked-in file matches the models; the examples validate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from drkit.runbooks.loader import parse_runbook
from drkit.runbooks.schema import (
    runbook_schema,
    schema_text,
    shipped_schema_path,
    shipped_schema_text,
)

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_FILE = ROOT / "docs" / "runbook.schema.json"
DOC = ROOT / "docs" / "runbooks.md"


def _doc_examples() -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.DOTALL)
    return [b for b in blocks if re.search(r"^steps:", b, re.MULTILINE)]


def _example_files() -> list[Path]:
    found = sorted((ROOT / "examples").rglob("*.yaml")) if (ROOT / "examples").is_dir() else []
    return [p for p in found if re.search(r"^steps:", p.read_text(), re.MULTILINE)]


def test_the_checked_in_schema_is_the_models_schema() -> None:
    shipped = ROOT / "src" / "drkit" / "runbooks" / "runbook.schema.json"
    regenerate = (
        "regenerate both: python -c 'from drkit.runbooks.schema import schema_text; "
        'print(schema_text(), end="")\' | tee docs/runbook.schema.json '
        "src/drkit/runbooks/runbook.schema.json"
    )
    assert SCHEMA_FILE.read_text() == schema_text(), regenerate
    assert shipped.read_text() == schema_text(), regenerate
    assert shipped_schema_text() == schema_text()
    jsonschema.Draft202012Validator.check_schema(runbook_schema())


def test_the_schema_and_the_editor_line_point_nowhere_online() -> None:
    schema = json.loads(shipped_schema_text())
    assert schema["$id"] == "runbook.schema.json"  # relative: resolved where it is read
    lines = re.findall(r"yaml-language-server: \$schema=(\S+)", DOC.read_text())
    assert lines and all(not re.match(r"\w+://", target) for target in lines)
    assert shipped_schema_path().read_text() == shipped_schema_text()


def test_the_documentation_has_runbook_examples() -> None:
    assert len(_doc_examples()) >= 2


@pytest.mark.parametrize("text", _doc_examples())
def test_documented_examples_validate_against_schema_and_loader(text: str) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.validate(YAML(typ="safe").load(text), schema)
    parse_runbook(text, Path("docs-example.yaml"))  # the cross-step checks pass too


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: p.name)
def test_shipped_examples_validate_against_the_schema(path: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.validate(YAML(typ="safe").load(path.read_text()), schema)


def test_the_schema_rejects_what_the_model_rejects() -> None:
    schema = runbook_schema()
    bad = {"name": "x", "steps": [{"id": "a", "action": "shell", "retries": {"count": -1}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "steps": [{"id": "a", "colour": "red"}]}, schema)
    jsonschema.validate({"name": "x", "rto": "1h", "steps": [{"id": "a", "timeout": 5}]}, schema)


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: p.name)
def test_shipped_examples_point_editors_at_the_schema_in_the_checkout(path: Path) -> None:
    (target,) = re.findall(r"^# yaml-language-server: \$schema=(\S+)$", path.read_text(), re.M)
    assert (path.parent / target).resolve() == SCHEMA_FILE
