"""load_settings: valid files, and errors that name the file, line and key path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drkit.errors import ConfigError
from drkit.settings import Media, Settings, load_or_default, load_settings

WriteSettings = Callable[[str], Path]
LoadErrors = Callable[[str], list[str]]

FULL = """
version: 1
home: /var/lib/drkit
repositories:
  local:
    url: /srv/backup
    password_file: /etc/drkit/local.pw
  offsite:
    url: sftp://backup@vault.example/drkit
    password_command: pass show drkit/offsite
    media: object
    site: vault
    description: rented storage box
backup:
  excludes:
    - "*.tmp"
    - /home/*/.cache
  compression: zstd:7
  pack_size_mib: 32
  one_file_system: true
"""


def test_full_file_is_loaded_into_typed_models(write_settings: WriteSettings) -> None:
    settings = load_settings(write_settings(FULL))

    assert settings.home == Path("/var/lib/drkit")
    assert list(settings.repositories) == ["local", "offsite"]
    local = settings.repositories["local"]
    assert local.url == "/srv/backup"
    assert local.password_file == Path("/etc/drkit/local.pw")
    assert local.media is Media.DISK
    assert local.site == "local"
    offsite = settings.repositories["offsite"]
    assert offsite.password_command == "pass show drkit/offsite"
    assert offsite.media is Media.OBJECT
    assert (offsite.site, offsite.description) == ("vault", "rented storage box")
    assert settings.backup.excludes == ["*.tmp", "/home/*/.cache"]
    assert settings.backup.compression == "zstd:7"
    assert settings.backup.pack_size_mib == 32
    assert settings.backup.one_file_system is True


def test_loaded_values_are_plain_python_types(write_settings: WriteSettings) -> None:
    settings = load_settings(write_settings(FULL))

    assert type(settings.backup.excludes) is list
    assert type(settings.backup.excludes[0]) is str
    assert type(settings.backup.one_file_system) is bool


@pytest.mark.parametrize("text", ["", "# nothing configured yet\n", "---\n"])
def test_empty_file_gives_all_defaults(write_settings: WriteSettings, text: str) -> None:
    settings = load_settings(write_settings(text))

    assert settings == Settings()
    assert settings.version == 1
    assert settings.home is None
    assert settings.repositories == {}
    assert settings.backup.compression == "auto"
    assert settings.backup.pack_size_mib == 16


def test_unknown_key_names_its_line_and_suggests_the_real_key(load_errors: LoadErrors) -> None:
    errors = load_errors(
        """
        backup:
          excludes: []
          compresion: max
        """
    )

    assert errors == [":3: backup.compresion: unknown key; did you mean 'compression'?"]


def test_unknown_key_without_close_match_lists_allowed_keys(load_errors: LoadErrors) -> None:
    errors = load_errors(
        """
        version: 1
        colour: blue
        """
    )

    assert len(errors) == 1
    assert errors[0].startswith(
        ":2: colour: unknown key; expected one of: version, home, repositories, backup, policies, "
    )
    assert "catalog" in errors[0]


def test_wrong_enum_value_names_line_key_path_and_value(load_errors: LoadErrors) -> None:
    errors = load_errors(
        """
        # offsite copies
        repositories:
          local:
            url: /srv/backup
          offsite:
            url: /mnt/offsite
            media: floppy
        """
    )

    assert errors == [
        ":7: repositories.offsite.media: input should be 'disk', 'object', 'tape', "
        "'optical' or 'cloud' (got 'floppy')"
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("fast", "compression must be 'auto', 'off', 'max' or 'zstd:N' with N from 1 to 19"),
        ("zstd:25", "zstd level must be a whole number from 1 to 19, as in 'zstd:3'"),
        ("zstd:0", "zstd level must be a whole number from 1 to 19, as in 'zstd:3'"),
        ("'zstd:'", "zstd level must be a whole number from 1 to 19, as in 'zstd:3'"),
    ],
)
def test_bad_compression_string_is_explained(
    load_errors: LoadErrors, value: str, problem: str
) -> None:
    errors = load_errors(f"backup:\n  pack_size_mib: 8\n  compression: {value}\n")

    shown = value.strip("'")
    assert errors == [f":3: backup.compression: {problem} (got {shown!r})"]


def test_password_file_and_command_are_mutually_exclusive(load_errors: LoadErrors) -> None:
    errors = load_errors(
        """
        repositories:
          main:
            url: /srv/backup
            password_file: /etc/drkit/pw
            password_command: pass show drkit
        """
    )

    assert errors == [
        ":5: repositories.main.password_command: password_file and password_command "
        "are mutually exclusive; set only one"
    ]


def test_yaml_syntax_error_names_line_and_column(write_settings: WriteSettings) -> None:
    path = write_settings(
        """
        version: 1
        backup:
          compression: zstd: 3
        """
    )

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    assert caught.value.message == f"{path}:3:20: mapping values are not allowed here"


def test_duplicate_key_is_a_syntax_error_with_both_lines(write_settings: WriteSettings) -> None:
    path = write_settings("backup:\n  pack_size_mib: 8\n  pack_size_mib: 9\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = caught.value.message
    assert message.startswith(f'{path}:3:3: found duplicate key "pack_size_mib"')
    assert message.endswith("(while constructing a mapping at line 2)")


def test_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "drkit.yaml"

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    assert caught.value.message == f"{path}: settings file not found"
    assert "create it" in caught.value.hint
    assert "DRKIT_CONFIG" in caught.value.hint
    assert caught.value.exit_code == 2


def test_excludes_item_error_points_at_the_item(load_errors: LoadErrors) -> None:
    errors = load_errors(
        """
        backup:
          excludes:
            - "*.tmp"
            - /var/cache
            - 42
            - "*.bak"
        """
    )

    assert errors == [":5: backup.excludes[2]: input should be a valid string (got 42)"]


def test_flow_list_item_error_points_at_the_item_line(load_errors: LoadErrors) -> None:
    errors = load_errors('backup:\n  excludes: ["*.tmp",\n    true]\n')

    assert errors == [":3: backup.excludes[1]: input should be a valid string (got true)"]


def test_all_problems_are_listed_in_file_order(load_errors: LoadErrors) -> None:
    errors = load_errors(
        """
        repositories:
          Off Site:
            url: /mnt/offsite
          tape:
            media: tape
        backup:
          pack_size_mib: 2
          one_file_system: maybe
        """
    )

    assert errors == [
        ":2: repositories['Off Site']: invalid repository name: use lowercase letters, "
        "digits, '_' and '-', starting with a letter or digit (got 'Off Site')",
        ":4: repositories.tape.url: required key is missing",
        ":7: backup.pack_size_mib: input should be greater than or equal to 4 (got 2)",
        ":8: backup.one_file_system: input should be a valid boolean, "
        "unable to interpret input (got 'maybe')",
    ]


def test_section_of_wrong_shape_is_reported_at_its_key(load_errors: LoadErrors) -> None:
    errors = load_errors("version: 1\nrepositories:\n  main: /srv/backup\n")

    assert errors == [
        ":3: repositories.main: input should be a mapping of keys to values (got '/srv/backup')"
    ]


def test_unsupported_version_is_refused(load_errors: LoadErrors) -> None:
    errors = load_errors("version: 2\n")

    assert errors == [":1: version: unsupported settings version 2; this drkit reads version 1"]


def test_top_level_list_is_refused(write_settings: WriteSettings) -> None:
    path = write_settings("- repositories\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    assert caught.value.message.startswith(f"{path}:1: the top level must be a mapping")
    assert caught.value.message.endswith("not a list")


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "drkit.yaml"
    path.write_bytes(b"version: 1\nbackup:\n  excludes: ['\xff']\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    assert caught.value.message == f"{path}:3: not valid UTF-8 text"


def test_directory_instead_of_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)

    assert caught.value.message == f"{tmp_path}: is a directory, not a settings file"


def test_load_or_default_without_path_gives_defaults() -> None:
    assert load_or_default(None) == Settings()


def test_load_or_default_with_path_loads_it(write_settings: WriteSettings) -> None:
    settings = load_or_default(write_settings("backup:\n  compression: off\n"))

    assert settings.backup.compression == "off"
