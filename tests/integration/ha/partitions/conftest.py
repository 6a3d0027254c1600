"""One namespaced HA cluster per module (tests/fixtures/ha_netns.py); scenarios reset it."""

from collections.abc import Iterator

import pytest

from tests.fixtures.ha_netns import HaNetCluster, ha_net_cluster


@pytest.fixture(scope="module")
def ha_net() -> Iterator[HaNetCluster]:
    with ha_net_cluster() as cluster:
        yield cluster
