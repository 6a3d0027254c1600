"""What quickstart prepares: made once, reused after, never overwritten."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from drkit.errors import UsageError
from drkit.repository.repo import Repository
from drkit.services.quickstart import prepare
from drkit.settings.loader import load_settings
from drkit.storage.local import LocalBackend


def test_the_first_run_makes_everything_and_the_second_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRKIT_PASSWORD", raising=False)
    home = tmp_path / "home"
    first = prepare(home)
    doc = json.loads(json.dumps(first.to_json()))
    assert set(doc) == {"home", "repository", "password_file", "source", "config", "created"}
    assert first.created is not None and first.source == home / "sample"
    assert stat.S_IMODE(first.password_file.stat().st_mode) == 0o600
    passphrase = first.password_file.read_text()
    repo = Repository.open(LocalBackend(first.repo_dir), passphrase)
    assert repo.config.id == first.created
    settings = load_settings(first.config)
    assert settings.policies["quickstart"].repositories == ["local"]
    first.config.write_text(first.config.read_text() + "# mine\n")
    again = prepare(home)
    assert again.created is None and again.password_file.read_text() == passphrase
    assert again.config.read_text().endswith("# mine\n")  # not written over


def test_a_passphrase_file_that_is_empty_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "passphrase").write_text("")
    with pytest.raises(UsageError) as caught:
        prepare(home, tmp_path)
    assert caught.value.hint
    assert not (home / "repository").exists()
