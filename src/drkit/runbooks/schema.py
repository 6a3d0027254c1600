"""The published JSON Schema of runbook files (``drkit runbook schema``, docs/runbook.schema.json).

Generated from the pydantic models, so the two cannot drift apart (a test
compares the checked-in file with this output). Editors use it for
completion and checks (``# yaml-language-server: $schema=...``). Only the
shape is in the schema; the checks across steps (unique ids, goto targets,
names in expressions, action arguments) need ``drkit runbook validate``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from drkit.runbooks.model import Runbook

SCHEMA_ID = "https://drkit.dev/schemas/runbook.schema.json"


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
