"""``drkit.yaml``: typed settings models and the loader that reports file:line errors."""

from pathlib import Path

from drkit.settings.discovery import (
    SETTINGS_FILE_NAME,
    default_home,
    find_settings_file,
    load_or_default,
)
from drkit.settings.model import (
    BackupSettings,
    Media,
    RepositorySettings,
    Settings,
)


def load_settings(path: Path) -> Settings:
    """Read and validate a settings file (imports the YAML parser on first use)."""
    from drkit.settings.loader import load_settings as load

    return load(path)


__all__ = [
    "SETTINGS_FILE_NAME",
    "BackupSettings",
    "Media",
    "RepositorySettings",
    "Settings",
    "default_home",
    "find_settings_file",
    "load_or_default",
    "load_settings",
]
