"""Real parts for the HA measurement (the fixtures of the test suite)."""

from tests.fixtures.etcd import etcd, etcd_cluster  # noqa: F401
from tests.fixtures.ha import knot, pg_pair, pg_template  # noqa: F401
from tests.fixtures.haproxy import haproxy  # noqa: F401
