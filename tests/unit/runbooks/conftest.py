"""Fixtures of the runbook unit tests: a fresh SQLite catalog, fakes reset between tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from tests.unit.runbooks import fakes


@pytest.fixture(autouse=True)
def _fresh_fakes() -> Iterator[None]:
    fakes.reset()
    yield
    for gate in fakes.GATES.values():  # let abandoned threads end
        gate.set()


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.close()
