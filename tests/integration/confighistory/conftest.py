"""Catalogs for the configuration history tests: SQLite in tmp_path, or a scratch PostgreSQL
database on the machine's server (unique name, dropped afterwards)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drkit.catalog import Catalog
from tests.conftest import Result
from tests.fixtures.databases import pg_create, pg_drop, unique_name


@pytest.fixture
def pg_catalog_url() -> Iterator[str]:
    name = unique_name("drkit_ch")
    url = pg_create(name)
    try:
        yield url
    finally:
        pg_drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    return str(request.getfixturevalue("pg_catalog_url"))


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    opened = Catalog.open(catalog_url)
    try:
        yield opened
    finally:
        opened.close()


# -- the drkit command ------------------------------------------------------------------------
@dataclass
class Drkit:
    """``drkit ARGS`` in a child process with its own DRKIT_HOME and drkit.yaml."""

    env: dict[str, str]
    home: Path
    config: Path

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, input: str | None = None
    ) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "drkit", *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            input=input,
            check=False,
        )
        return Result(list(args), proc.returncode, proc.stdout, proc.stderr)

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").check().stdout)

    def write_config(self, text: str) -> None:
        self.config.write_text(textwrap.dedent(text).lstrip("\n"))

    def open_catalog(self) -> Catalog:
        return Catalog.open(f"sqlite:///{self.home / 'catalog.db'}")


@pytest.fixture
def dk(drkit_env: dict[str, str], tmp_path: Path) -> Drkit:
    config = tmp_path / "drkit.yaml"
    env = {**drkit_env, "DRKIT_CONFIG": str(config)}
    env.pop("FORCE_COLOR", None)
    return Drkit(env, Path(drkit_env["DRKIT_HOME"]), config)
