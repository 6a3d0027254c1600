"""The settings models on their own: defaults, immutability, validators."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from drkit.settings import BackupSettings, Media, RepositorySettings, Settings


def test_defaults() -> None:
    repository = RepositorySettings(url="/srv/backup")

    assert repository.media is Media.DISK
    assert (repository.site, repository.description) == ("local", "")
    assert repository.password_file is None and repository.password_command is None
    assert BackupSettings().excludes == []
    assert BackupSettings().one_file_system is False


def test_models_are_frozen() -> None:
    settings = Settings()

    with pytest.raises(ValidationError, match="frozen"):
        settings.version = 2  # type: ignore[misc]


@pytest.mark.parametrize("value", ["auto", "off", "max", "zstd:1", "zstd:19"])
def test_valid_compression_values(value: str) -> None:
    assert BackupSettings(compression=value).compression == value


@pytest.mark.parametrize("value", ["zstd", "zstd:20", "zstd:-1", "zstd:x", "gzip:5", "AUTO"])
def test_invalid_compression_values(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        BackupSettings(compression=value)

    assert caught.value.errors()[0]["loc"] == ("compression",)


@pytest.mark.parametrize(("size", "ok"), [(3, False), (4, True), (128, True), (129, False)])
def test_pack_size_bounds(size: int, ok: bool) -> None:
    if ok:
        assert BackupSettings(pack_size_mib=size).pack_size_mib == size
    else:
        with pytest.raises(ValidationError, match="pack_size_mib"):
            BackupSettings(pack_size_mib=size)


@pytest.mark.parametrize("name", ["a", "0", "off-site_2"])
def test_valid_repository_names(name: str) -> None:
    settings = Settings.model_validate({"repositories": {name: {"url": "/r"}}})

    assert list(settings.repositories) == [name]


@pytest.mark.parametrize("name", ["", "-a", "_a", "Main", "a b", "a.b"])
def test_invalid_repository_names(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate({"repositories": {name: {"url": "/r"}}})

    assert caught.value.errors()[0]["loc"] == ("repositories", name, "[key]")


@pytest.mark.parametrize("url", ["", "   "])
def test_blank_url_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="must not be empty"):
        RepositorySettings(url=url)


def test_paths_expand_the_user_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/someone")

    repository = RepositorySettings(url="/r", password_file=Path("~/pw"))

    assert repository.password_file == Path("/home/someone/pw")


def test_every_field_is_described() -> None:
    for model in (Settings, RepositorySettings, BackupSettings):
        assert model.__doc__
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"
