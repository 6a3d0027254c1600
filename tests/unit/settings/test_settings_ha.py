"""The ha: inventory: a full file loads; bad sites and unsafe timings fail at file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from drkit.settings import load_settings
from drkit.settings.ha import election_slack_s, etcd_election_s, fencing_budget_s

WriteSettings = Callable[[str], Path]
LoadErrors = Callable[[str], list[str]]

HA = """
version: 1
ha:
  cluster: shop
  etcd:
    endpoints: ["http://127.0.0.1:2379"]
    user: drkit
    password_file: /etc/drkit/etcd.pw
  sites:
    us-east:
      database: {host: 127.0.0.1, port: 5432, data_dir: /srv/pg1, priority: 100}
      app_servers:
        - {name: web1, start: "true", stop: "true", health_url: "http://127.0.0.1:8080/"}
      load_balancer: {socket: /run/haproxy.sock, backend: pg, server: us-east}
      dns: [{zone: example.com, name: db.example.com, server: 127.0.0.1:53}]
    us-west:
      database: {host: 127.0.0.2, port: 5432, data_dir: /srv/pg2, priority: 50}
    witness: {}
  witness: witness
  TIMINGS
"""


def test_full_inventory_loads(write_settings: WriteSettings) -> None:
    settings = load_settings(write_settings(HA.replace("TIMINGS", "synchronous_mode: true")))
    assert settings.ha is not None
    assert settings.ha.database_sites() == ["us-east", "us-west"]
    assert settings.ha.observers_of("us-east") == ["us-west", "witness"]
    assert settings.ha.sites["us-east"].load_balancer is not None
    assert settings.ha.synchronous_mode is True
    assert fencing_budget_s(settings.ha.timings) < settings.ha.timings.lease_ttl_s


def test_timings_that_cannot_fence_in_time_are_refused(load_errors: LoadErrors) -> None:
    text = HA.replace("TIMINGS", "timings: {lease_ttl_s: 4, loop_interval_s: 2}")
    (line,) = load_errors(text)
    assert line.startswith(":2: ha:"), line
    assert "cannot fence in time" in line and "lease_ttl_s = 4 s" in line
    assert "raise lease_ttl_s above 7 s" in line


def test_timings_whose_slack_cannot_ride_out_an_etcd_election_are_refused(
    load_errors: LoadErrors,
) -> None:
    # budget 0.5 + 0.5 + 0.6 + 1.5 + 0.5 = 3.6 s fits in 5 s, but 1.4 s of slack < a 2 s election
    fast = (
        "timings: {lease_ttl_s: 5, loop_interval_s: 0.5, check_interval_s: 0.5, "
        "check_timeout_s: 0.5, dcs_timeout_s: 0.6, fence_timeout_s: 1.5, safety_margin_s: 0.5}"
    )
    (line,) = load_errors(HA.replace("TIMINGS", fast))
    assert "cannot ride out an etcd leader election" in line, line
    assert "leaves 1.4 s beyond the fencing budget of 3.6 s" in line
    assert "may take 2 s (twice etcd.election_timeout_s = 1 s)" in line
    assert "raise lease_ttl_s to 5.6 s or more" in line


def test_the_assumed_etcd_election_follows_its_election_timeout(
    write_settings: WriteSettings, load_errors: LoadErrors
) -> None:
    fast = (
        "timings: {lease_ttl_s: 5, loop_interval_s: 0.5, check_interval_s: 0.5, "
        "check_timeout_s: 0.5, dcs_timeout_s: 0.6, fence_timeout_s: 1.5, safety_margin_s: 0.5}"
    )
    quick = HA.replace("TIMINGS", fast).replace(
        "password_file: /etc/drkit/etcd.pw",
        "password_file: /etc/drkit/etcd.pw\n    election_timeout_s: 0.5",
    )
    settings = load_settings(write_settings(quick))
    assert settings.ha is not None
    assert etcd_election_s(settings.ha.etcd) == 1.0
    assert election_slack_s(settings.ha) >= etcd_election_s(settings.ha.etcd)
    slow = quick.replace("election_timeout_s: 0.5", "election_timeout_s: 2.5")
    (line,) = load_errors(slow)
    assert "an etcd election may take 5 s (twice etcd.election_timeout_s = 2.5 s)" in line


def test_the_defaults_ride_out_an_election_exactly(write_settings: WriteSettings) -> None:
    settings = load_settings(write_settings(HA.replace("TIMINGS", "")))
    assert settings.ha is not None
    assert fencing_budget_s(settings.ha.timings) == 6.0
    assert election_slack_s(settings.ha) == etcd_election_s(settings.ha.etcd) == 2.0


def test_witness_with_a_database_is_refused(load_errors: LoadErrors) -> None:
    text = HA.replace("witness: witness", "witness: us-west").replace("TIMINGS", "")
    (line,) = load_errors(text)
    assert "witness 'us-west' must not have a database" in line


def test_unknown_witness_is_refused(load_errors: LoadErrors) -> None:
    (line,) = load_errors(HA.replace("witness: witness", "witness: mars").replace("TIMINGS", ""))
    assert "witness 'mars' is not one of the sites" in line


def test_one_database_site_is_not_ha(load_errors: LoadErrors) -> None:
    text = HA.replace(
        "database: {host: 127.0.0.2, port: 5432, data_dir: /srv/pg2, priority: 50}",
        "app_servers: []",
    ).replace("TIMINGS", "")
    (line,) = load_errors(text)
    assert "at least two sites with a database" in line


def test_load_balancer_needs_one_endpoint(load_errors: LoadErrors) -> None:
    text = HA.replace("socket: /run/haproxy.sock, ", "").replace("TIMINGS", "")
    (line,) = load_errors(text)
    assert (
        ":13: ha.sites.us-east.load_balancer:" in line
        and "exactly one of load_balancer.socket" in line
    )
