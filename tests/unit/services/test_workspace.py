"""The Workspace: reading settings has no side effect; versioning and passphrases are explicit."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.errors import UsageError
from drkit.services import Workspace

CONFIG = """\
version: 1
repositories:
  local:
    url: {url}
    password_file: {pw}
policies:
  web:
    sources: [{{type: files, paths: [/srv]}}]
    repositories: [local]
"""


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    for name in ("DRKIT_PASSWORD", "DRKIT_PASSWORD_FILE", "DRKIT_REPO", "DRKIT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DRKIT_HOME", str(tmp_path / "home"))
    (tmp_path / "pw").write_text("from-file\n")
    config = tmp_path / "drkit.yaml"
    config.write_text(CONFIG.format(url=tmp_path / "repo", pw=tmp_path / "pw"))
    return Workspace(config=config)


def test_reading_settings_writes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    assert sorted(workspace.settings.policies) == ["web"]
    assert workspace.home == tmp_path / "home"
    assert workspace.policy("web").repositories == ["local"]
    assert not (tmp_path / "home").exists()  # no catalog, no confighistory.seen


def test_record_config_version_is_the_explicit_step(workspace: Workspace, tmp_path: Path) -> None:
    try:
        first = workspace.record_config_version(message="daemon start")
        assert first is not None and (tmp_path / "home" / "confighistory.seen").is_file()
        assert workspace.record_config_version() is None  # unchanged: no second version
    finally:
        workspace.close()


def test_a_named_repository_uses_its_own_password_file(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRKIT_PASSWORD", "from-env")
    assert workspace.password_for("local") == "from-file"
    assert workspace.password_for("/elsewhere") == "from-env"


def test_without_any_passphrase_source_the_face_is_asked(workspace: Workspace) -> None:
    with pytest.raises(UsageError, match="no passphrase given"):
        workspace.password_for("/elsewhere")
    asked = Workspace(config=workspace.config, ask_passphrase=lambda confirm: f"asked {confirm}")
    assert asked.password_for("/elsewhere", confirm=True) == "asked True"


def test_unknown_policy_and_missing_repository_are_usage_errors(workspace: Workspace) -> None:
    with pytest.raises(UsageError, match="no policy 'db'") as caught:
        workspace.policy("db")
    assert caught.value.hint == "defined in drkit.yaml: web"
    with pytest.raises(UsageError, match="no repository given"):
        workspace.repo_url()
    with pytest.raises(UsageError, match="no repository 'offsite'"):
        workspace.open_named("offsite")


def test_a_password_command_that_cannot_run_is_a_usage_error(tmp_path: Path) -> None:
    from drkit.services import run_password_command

    with pytest.raises(UsageError, match="exit code 3"):
        run_password_command("exit 3")
    assert run_password_command("echo secret") == "secret"
    with pytest.raises(UsageError, match=r"the repository password: the file .* does not exist"):
        from drkit.services import read_password_file

        read_password_file(tmp_path / "missing")
    with pytest.raises(UsageError, match="printed nothing"):
        run_password_command("true")
    (tmp_path / "pw").write_text("first line \nsecond\n")
    assert read_password_file(tmp_path / "pw") == "first line "  # one rule: the first line
