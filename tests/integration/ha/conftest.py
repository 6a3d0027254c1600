"""Real HA parts for these scenarios (fixtures live in tests/fixtures)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from tests.fixtures.etcd import etcd, etcd_cluster  # noqa: F401
from tests.fixtures.ha import knot, pg_pair, pg_template  # noqa: F401
from tests.fixtures.haproxy import haproxy  # noqa: F401


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.close()
