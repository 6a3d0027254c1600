"""Helpers for the drkit.yaml tests: write a settings file, expect its errors."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from drkit.errors import ConfigError
from drkit.settings import load_settings

WriteSettings = Callable[[str], Path]
LoadErrors = Callable[[str], list[str]]


@pytest.fixture
def write_settings(tmp_path: Path) -> WriteSettings:
    """Write dedented YAML text to ``tmp_path/drkit.yaml`` and return its path."""

    def write(text: str) -> Path:
        path = tmp_path / "drkit.yaml"
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def load_errors(write_settings: WriteSettings) -> LoadErrors:
    """Load YAML text that must fail; return the error lines without the file name."""

    def load(text: str) -> list[str]:
        path = write_settings(text)
        with pytest.raises(ConfigError) as caught:
            load_settings(path)
        lines = caught.value.message.splitlines()
        assert all(line.startswith(f"{path}:") for line in lines), lines
        return [line.removeprefix(str(path)) for line in lines]

    return load
