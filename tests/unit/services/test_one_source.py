"""Naming one source of a policy (a per-source backup, a restore test): by its label, as its
snapshots record it, or by its entry in drkit.yaml; anything else is a usage error listing
the labels."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drkit.errors import UsageError
from drkit.services.backup import one_source
from drkit.settings.policies import PolicySettings


def _policy(tmp_path: Path) -> PolicySettings:
    return PolicySettings.model_validate(
        {
            "sources": ["data", str(tmp_path / "etc"), {"type": "sqlite", "path": "/srv/app.db"}],
            "repositories": ["local"],
        }
    )


def test_a_plain_path_is_named_by_its_entry_or_its_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    policy = _policy(tmp_path)
    assert one_source(policy, "data") == "data"
    assert one_source(policy, os.path.join(tmp_path, "data")) == "data"  # the label: absolute
    assert one_source(policy, str(tmp_path / "etc")) == str(tmp_path / "etc")


def test_a_typed_source_is_named_by_its_label(tmp_path: Path) -> None:
    from drkit.sources.registry import source_labels

    policy = _policy(tmp_path)
    label = source_labels(policy.sources)[2]
    found = one_source(policy, label)
    assert not isinstance(found, str) and getattr(found, "type", None) == "sqlite"


@pytest.mark.parametrize("name", ["", "etc", "/srv/app.db/", "sqlite"])
def test_anything_else_is_refused_with_the_labels(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError) as refused:
        one_source(_policy(tmp_path), name)
    assert f"no source {name!r}" in refused.value.message
    assert str(tmp_path / "etc") in refused.value.hint
