"""Policies in drkit.yaml: typed, cross-checked against the repositories."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from drkit.errors import ConfigError
from drkit.settings import load_settings

GOOD = """\
version: 1
repositories:
  local: {url: /backup/repo, media: disk, site: office}
  offsite: {url: /mnt/offsite, media: object, site: aws}
policies:
  app:
    sources: [/srv/app]
    repositories: [local, offsite]
    schedule: "0 2 * * *"
    retention: {daily: 7}
    repository_retention:
      offsite: {daily: 30}
    rpo: 24h
    rto: 4h
    site: office
"""


def test_policy_loads(tmp_path: Path) -> None:
    cfg = tmp_path / "drkit.yaml"
    cfg.write_text(GOOD)
    policy = load_settings(cfg).policies["app"]
    assert policy.rpo == timedelta(hours=24) and policy.rto == timedelta(hours=4)
    assert policy.retention_for("local").to_policy().daily == 7  # type: ignore[union-attr]
    assert policy.retention_for("offsite").to_policy().daily == 30  # type: ignore[union-attr]


def test_unknown_repository_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "drkit.yaml"
    cfg.write_text(GOOD.replace("repositories: [local, offsite]", "repositories: [local, tape]"))
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert "'tape'" in info.value.message and "app" in info.value.message
    assert f"{cfg}:" in info.value.message


def test_bad_objective_points_at_its_line(tmp_path: Path) -> None:
    cfg = tmp_path / "drkit.yaml"
    cfg.write_text(GOOD.replace("rpo: 24h", "rpo: soon"))
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert f"{cfg}:13:" in info.value.message and "policies.app.rpo" in info.value.message
