"""daemon.control_plane: two serves over PostgreSQL; SQLite and unsafe timings fail at file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from drkit.controlplane.etcd import dcs_settings
from drkit.settings import load_settings
from drkit.settings.daemon import control_plane_budget_s

WriteSettings = Callable[[str], Path]
LoadErrors = Callable[[str], list[str]]

TWO_SITES = """
version: 1
CATALOG
daemon:
  listen: 127.0.0.1:9464
  control_plane:
    name: us-east
    etcd:
      endpoints: ["http://127.0.0.1:2379", "http://127.0.0.1:2479"]
    TIMINGS
"""
PG = "catalog: {url: 'postgresql+psycopg://drkit@db.internal/drkit'}"


def test_two_sites_over_postgresql_load(write_settings: WriteSettings) -> None:
    text = TWO_SITES.replace("CATALOG", PG).replace("TIMINGS", "lease_ttl_s: 6")
    cp = load_settings(write_settings(text)).daemon.control_plane
    assert cp is not None and cp.name == "us-east" and cp.lease_ttl_s == 6
    assert control_plane_budget_s(cp) == 3 < cp.lease_ttl_s
    driver = dcs_settings(cp)  # what the HA etcd driver gets: keys apart from HA clusters
    assert driver["cluster"] == "serve.drkit" and driver["ttl_s"] == 6
    assert driver["request_timeout_s"] == 0.5  # two endpoints share the 1 s etcd timeout


def test_an_sqlite_catalog_is_refused_with_why_and_a_hint(load_errors: LoadErrors) -> None:
    text = TWO_SITES.replace("CATALOG", "catalog: {url: 'sqlite:////srv/drkit/catalog.db'}")
    (line,) = load_errors(text.replace("TIMINGS", ""))
    assert line.startswith(":3: daemon:"), line
    assert "'sqlite:////srv/drkit/catalog.db'" in line
    assert "cannot reach" in line and "hint: set catalog.url to postgresql+psycopg://" in line


def test_the_default_sqlite_catalog_is_refused_too(load_errors: LoadErrors) -> None:
    (line,) = load_errors(TWO_SITES.replace("CATALOG", "").replace("TIMINGS", ""))
    assert "the default SQLite file" in line


def test_timings_that_cannot_fence_in_time_are_refused(load_errors: LoadErrors) -> None:
    text = TWO_SITES.replace("CATALOG", PG)
    (line,) = load_errors(text.replace("TIMINGS", "lease_ttl_s: 3\n    loop_interval_s: 2"))
    assert line.startswith(":5: daemon.control_plane:"), line
    assert "cannot fence in time" in line and "= 4 s must be below lease_ttl_s = 3 s" in line
    assert "raise lease_ttl_s above 4 s" in line


def test_a_bad_serve_name_is_refused_at_its_line(load_errors: LoadErrors) -> None:
    text = TWO_SITES.replace("CATALOG", PG).replace("TIMINGS", "").replace("us-east", "us east!")
    (line,) = load_errors(text)
    assert line.startswith(":6: daemon.control_plane.name:"), line
