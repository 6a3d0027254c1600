"""tests.fixtures.net: the one free_port, and the old import paths still give it."""

from __future__ import annotations

import socket

from tests.fixtures import databases, pgcluster, s3
from tests.fixtures.net import free_port


def test_a_free_port_can_be_bound_and_old_paths_reexport_it() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # raises if it was not free
    assert free_port("127.0.0.1", "127.0.0.2") > 0
    assert databases.free_port is pgcluster.free_port is s3.free_port is free_port
