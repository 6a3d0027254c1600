"""The published JSON Schema of runbook files (``drkit runbook schema``).

Generated from the pydantic models, so the two cannot drift apart: the
package ships the generated file (``drkit/runbooks/runbook.schema.json``,
copied to docs/runbook.schema.json) and a test compares both with this
output. Editors use it for completion and checks: ``drkit runbook schema >
runbook.schema.json`` beside the runbooks and ``# yaml-language-server:
$schema=runbook.schema.json`` in each file, which works offline; the ``$id``
is relative for the same reason (it resolves to wherever the file is read
from). Only the shape is in the schema; the checks across steps (unique ids,
goto targets, names in expressions, action arguments) need ``drkit runbook
validate``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from drkit.runbooks.model import Runbook

SCHEMA_FILE_NAME = "runbook.schema.json"
SCHEMA_ID = SCHEMA_FILE_NAME  # relative: no domain to reach, resolved where the file is read


class _Generator(GenerateJsonSchema):
    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        """Durations' defaults as seconds (``1``), which the duration pattern accepts."""
        found = super().default_schema(schema)
        default = schema.get("default")
        if isinstance(default, timedelta):
            found["default"] = default.total_seconds()
        return found


def runbook_schema() -> dict[str, Any]:
    schema = Runbook.model_json_schema(by_alias=True, schema_generator=_Generator)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "drkit runbook",
    }


def schema_text() -> str:
    return json.dumps(runbook_schema(), indent=2, sort_keys=True) + "\n"


def shipped_schema_text() -> str:
    """The schema file installed with the package (what ``drkit runbook schema`` prints)."""
    return resources.files("drkit.runbooks").joinpath(SCHEMA_FILE_NAME).read_text("utf-8")


def shipped_schema_path() -> Path:
    """The installed file's path, for an editor setting that wants an absolute one."""
    with resources.as_file(resources.files("drkit.runbooks").joinpath(SCHEMA_FILE_NAME)) as path:
        return path
