"""The workspace: reading settings writes nothing; versioning drkit.yaml is an explicit call."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.cli.context import State
from drkit.errors import UsageError
from drkit.services.workspace import Workspace


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DRKIT_CONFIG", "DRKIT_CONFIG_HISTORY", "DRKIT_PASSWORD", "DRKIT_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "drkit.yaml"
    path.write_text(f"home: {tmp_path / 'home'}\n")
    return path


def _written(home: Path) -> list[str]:
    return sorted(p.name for p in home.rglob("*")) if home.exists() else []


def _versions(workspace: Workspace) -> int:
    from drkit.confighistory.store import VersionStore

    return VersionStore(workspace.catalog(), workspace.home).count()


def test_reading_settings_writes_nothing(config: Path) -> None:
    workspace = Workspace(config=config)
    assert workspace.settings.home == config.parent / "home"
    assert workspace.home == config.parent / "home"
    assert workspace.settings is workspace.settings
    assert _written(workspace.home) == []  # no catalog, no fingerprint of drkit.yaml
    assert workspace._catalog is None


def test_record_config_version_stores_drkit_yaml_once(config: Path) -> None:
    workspace = Workspace(config=config)
    first = workspace.record_config_version()
    assert first is not None
    assert workspace.record_config_version() is None  # unchanged: nothing new
    assert _versions(workspace) == 1
    workspace.close()


def test_the_cli_state_still_versions_on_first_load(config: Path) -> None:
    state = State(config=config)
    assert state.settings.home == config.parent / "home"
    assert _versions(state) == 1
    state.close()


def test_without_a_prompt_a_missing_passphrase_is_a_usage_error(config: Path) -> None:
    with pytest.raises(UsageError, match="no passphrase given"):
        Workspace(config=config).password_for("nowhere")


def test_the_prompt_is_asked_whether_to_confirm(config: Path) -> None:
    asked: list[bool] = []
    workspace = Workspace(config=config, prompt=lambda confirm: asked.append(confirm) or "pw")
    assert workspace.password(confirm=True) == "pw"
    assert asked == [True]
