"""Helpers for the verification tests: a backed-up sample tree, and damaging it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    root = tmp_path / "scratch"
    root.mkdir()
    return root


def as_json(done: Result) -> Any:
    try:
        return json.loads(done.stdout)
    except ValueError as exc:
        raise AssertionError(f"not JSON:\n{done.stdout}\nstderr:\n{done.stderr}") from exc


def text(done: Result) -> str:
    return done.stdout + done.stderr
