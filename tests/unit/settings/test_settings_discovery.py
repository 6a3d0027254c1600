"""find_settings_file and default_home: where drkit looks for its settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.settings import SETTINGS_FILE_NAME, default_home, find_settings_file


def _touch(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / SETTINGS_FILE_NAME
    path.write_text("version: 1\n", encoding="utf-8")
    return path


def test_explicit_path_wins_even_if_missing(tmp_path: Path) -> None:
    explicit = tmp_path / "missing.yaml"
    env = {"DRKIT_CONFIG": str(_touch(tmp_path / "env")), "DRKIT_HOME": str(tmp_path)}

    assert find_settings_file(explicit, env, cwd=tmp_path) == explicit


def test_drkit_config_comes_before_drkit_home(tmp_path: Path) -> None:
    configured = tmp_path / "conf" / "custom.yaml"
    env = {"DRKIT_CONFIG": str(configured), "DRKIT_HOME": str(tmp_path / "home")}
    _touch(tmp_path / "home")

    assert find_settings_file(None, env, cwd=tmp_path) == configured


def test_drkit_home_comes_before_working_directory(tmp_path: Path) -> None:
    in_home = _touch(tmp_path / "home")
    _touch(tmp_path / "work")

    found = find_settings_file(None, {"DRKIT_HOME": str(tmp_path / "home")}, cwd=tmp_path / "work")

    assert found == in_home


def test_working_directory_is_used_when_home_has_no_file(tmp_path: Path) -> None:
    in_cwd = _touch(tmp_path / "work")
    env = {"DRKIT_HOME": str(tmp_path / "empty-home")}

    assert find_settings_file(None, env, cwd=tmp_path / "work") == in_cwd


def test_nothing_found_gives_none(tmp_path: Path) -> None:
    assert find_settings_file(None, {"DRKIT_CONFIG": ""}, cwd=tmp_path) is None


def test_relative_working_directory_file_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _touch(tmp_path)
    monkeypatch.chdir(tmp_path)

    assert find_settings_file(None, {}) == Path(SETTINGS_FILE_NAME)


def test_default_home_prefers_drkit_home(tmp_path: Path) -> None:
    env = {"DRKIT_HOME": str(tmp_path / "state"), "HOME": "/home/someone"}

    assert default_home(env) == tmp_path / "state"


def test_default_home_falls_back_to_local_share() -> None:
    assert default_home({"HOME": "/home/someone"}) == Path("/home/someone/.local/share/drkit")
