"""The built-in failover runbook on real parts: PostgreSQL pair and Knot DNS, through the runner."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from drkit.catalog.runs import RunStatus, get_run
from drkit.errors import DrkitError
from drkit.ha.failover import BUILTIN_NAME, builtin_runbook, run_failover
from drkit.settings.model import Settings
from tests.fixtures.ha import KnotServer, PgPair
from tests.fixtures.haproxy import HaproxyServer


def inventory(
    pair: PgPair,
    dns: KnotServer,
    app_marker: Path,
    lb: HaproxyServer | None = None,
    *,
    east_lb_address: str | None = None,
) -> Settings:
    """``east_lb_address``: east's runtime API at this host:port instead of ``lb``'s socket."""
    record = {
        "zone": dns.zone,
        "name": "db",
        "server": dns.address,
        "tsig_key_name": dns.key_name,
        "tsig_key_file": str(dns.secret_file),
    }
    site = {
        "east": {
            "database": {
                "host": pair.primary.host,
                "port": pair.port,
                "data_dir": str(pair.primary.data_dir),
            },
            "dns": [record],
        },
        "west": {
            "database": {
                "host": pair.replica.host,
                "port": pair.port,
                "data_dir": str(pair.replica.data_dir),
            },
            "dns": [record],
            "app_servers": [{"name": "web1", "start": f"touch {app_marker}"}],
        },
        "witness": {},
    }
    if lb is not None:
        for name, server in (("east", "s1"), ("west", "s2")):
            site[name]["load_balancer"] = {
                "socket": str(lb.socket_path),
                "backend": "db",
                "server": server,
            }
        if east_lb_address is not None:
            site["east"]["load_balancer"].update(socket=None, address=east_lb_address)
    return Settings.model_validate(
        {
            "ha": {
                "cluster": "t",
                "etcd": {"endpoints": ["http://127.0.0.1:1"]},
                "sites": site,
                "witness": "witness",
            }
        }
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.close()


def test_builtin_runbook_steps_in_order(pg_pair: PgPair, knot: KnotServer, tmp_path: Path) -> None:
    settings = inventory(pg_pair, knot, tmp_path / "app")
    assert settings.ha is not None
    book = builtin_runbook(settings.ha, "east", "west", notify=True)
    assert book.name == BUILTIN_NAME
    assert [s.id for s in book.steps] == ["promote", "dns-1", "app-1", "verify", "notify"]


def test_failover_promotes_moves_dns_starts_apps_and_is_journaled(
    pg_pair: PgPair, knot: KnotServer, catalog: Catalog, tmp_path: Path
) -> None:
    marker = tmp_path / "app-started"
    settings = inventory(pg_pair, knot, marker)
    pg_pair.primary.stop("immediate")
    note = run_failover(settings, catalog, "east", "west", "east is down")
    assert pg_pair.replica.in_recovery() is False
    pg_pair.replica.query("create table after_failover(x int)")
    assert knot.query("db") == {pg_pair.replica.host}
    assert marker.exists()
    run = get_run(catalog, int(note.removeprefix("run ")))
    assert run.status is RunStatus.SUCCEEDED


def test_failover_that_cannot_promote_fails_loudly(
    pg_pair: PgPair, knot: KnotServer, catalog: Catalog, tmp_path: Path
) -> None:
    settings = inventory(pg_pair, knot, tmp_path / "app")
    pg_pair.replica.stop("immediate")
    with pytest.raises(DrkitError, match=r"failover run \d+ failed"):
        run_failover(settings, catalog, "east", "west", "east is down")
    assert knot.query("db") == {pg_pair.primary.host}  # DNS not moved to a dead replica


def _admin(lb: HaproxyServer) -> dict[str, str]:
    """server name -> srv_admin_state (0 ready, 1 maint by the API) from show servers state."""
    lines = lb.runtime("show servers state db").splitlines()[2:]
    return {f[3]: f[6] for f in (line.split() for line in lines) if len(f) > 6}


def test_failover_fences_the_old_lb_server_and_opens_the_new_one(
    pg_pair: PgPair, knot: KnotServer, haproxy: HaproxyServer, catalog: Catalog, tmp_path: Path
) -> None:
    settings = inventory(pg_pair, knot, tmp_path / "app", haproxy)
    assert settings.ha is not None
    book = builtin_runbook(settings.ha, "east", "west", notify=False)
    assert [s.id for s in book.steps][:2] == ["fence-old-lb", "promote"]
    haproxy.runtime("set server db/s2 state maint")
    assert _admin(haproxy) == {"s1": "0", "s2": "1"}
    pg_pair.primary.stop("immediate")
    run_failover(settings, catalog, "east", "west", "east is down")
    assert _admin(haproxy) == {"s1": "1", "s2": "0"}
    assert pg_pair.replica.in_recovery() is False


def test_an_old_load_balancer_that_never_answers_costs_one_check_timeout(
    pg_pair: PgPair, knot: KnotServer, haproxy: HaproxyServer, catalog: Catalog, tmp_path: Path
) -> None:
    """The old site is cut off: its HAProxy accepts nothing it answers (a silent peer)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
    try:
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        settings = inventory(pg_pair, knot, tmp_path / "app", haproxy, east_lb_address=address)
        assert settings.ha is not None
        haproxy.runtime("set server db/s2 state maint")
        pg_pair.primary.stop("immediate")
        note = run_failover(settings, catalog, "east", "west", "east is cut off")
    finally:
        silent.close()
    steps = {s.name: s for s in get_run(catalog, int(note.removeprefix("run "))).steps}
    fence = steps["fence-old-lb"]
    timeout = settings.ha.timings.check_timeout_s
    assert fence.status.value == "failed"
    assert f"did not answer within {timeout:g} s" in (fence.error or ""), fence.error
    assert _admin(haproxy)["s2"] == "0"  # west opened all the same
    assert pg_pair.replica.in_recovery() is False
