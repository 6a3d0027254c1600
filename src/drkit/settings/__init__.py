"""``drkit.yaml``: typed settings models and the loader that reports file:line errors.

The models (pydantic) are imported on first use of one of their names, so a
command that needs no settings does not pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from drkit.settings.discovery import (
    SETTINGS_FILE_NAME,
    default_home,
    find_settings_file,
    load_or_default,
)

if TYPE_CHECKING:
    from drkit.settings.model import BackupSettings, Media, RepositorySettings, Settings

_MODEL_NAMES = {"BackupSettings", "Media", "RepositorySettings", "Settings"}


def __getattr__(name: str) -> Any:
    if name in _MODEL_NAMES:
        from drkit.settings import model

        return getattr(model, name)
    raise AttributeError(f"module 'drkit.settings' has no attribute {name!r}")


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
