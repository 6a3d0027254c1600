"""Real HA parts for these scenarios (fixtures live in tests/fixtures)."""

from tests.fixtures.etcd import etcd, etcd_cluster  # noqa: F401
from tests.fixtures.ha import knot, pg_pair, pg_template  # noqa: F401
from tests.fixtures.haproxy import haproxy  # noqa: F401
