"""``drkit.yaml``: typed settings models and the loader that reports file:line errors."""

from drkit.settings.loader import (
    SETTINGS_FILE_NAME,
    default_home,
    find_settings_file,
    load_or_default,
    load_settings,
)
from drkit.settings.model import (
    BackupSettings,
    Media,
    RepositorySettings,
    Settings,
)

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
