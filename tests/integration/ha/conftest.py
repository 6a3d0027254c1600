"""Real HA parts for these scenarios (fixtures live in tests/fixtures)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.catalog import Catalog


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.close()
