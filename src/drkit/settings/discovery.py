"""Where drkit's settings and state live, without loading the models or the YAML parser.

Most commands run without a drkit.yaml; they should not pay for importing
pydantic and the YAML round-trip parser (about 20 MB of memory), so the
model and the loader are imported only when settings are actually needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from drkit.errors import ConfigError

if TYPE_CHECKING:
    from drkit.settings.model import Settings

SETTINGS_FILE_NAME = "drkit.yaml"
"""Name of the settings file inside DRKIT_HOME or the working directory."""


def default_home(env: Mapping[str, str]) -> Path:
    """drkit's state directory: ``$DRKIT_HOME``, else ``~/.local/share/drkit``."""
    configured = env.get("DRKIT_HOME")
    if configured:
        return Path(configured).expanduser()
    user_home = env.get("HOME")
    base = Path(user_home) if user_home else Path.home()
    return base / ".local" / "share" / "drkit"


def find_settings_file(
    explicit: Path | None, env: Mapping[str, str], *, cwd: Path | None = None
) -> Path | None:
    """Locate the settings file, or None when there is none.

    In order: the explicit ``--config`` path, ``$DRKIT_CONFIG`` (both returned
    even if missing, so loading reports it), then ``$DRKIT_HOME/drkit.yaml`` and
    ``./drkit.yaml`` (in ``cwd`` if given), whichever exists first.
    """
    if explicit is not None:
        return explicit
    configured = env.get("DRKIT_CONFIG")
    if configured:
        return Path(configured).expanduser()
    candidates: list[Path] = []
    drkit_home = env.get("DRKIT_HOME")
    if drkit_home:
        candidates.append(Path(drkit_home).expanduser() / SETTINGS_FILE_NAME)
    candidates.append(cwd / SETTINGS_FILE_NAME if cwd is not None else Path(SETTINGS_FILE_NAME))
    return next((candidate for candidate in candidates if _is_file(candidate)), None)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError as exc:  # e.g. a DRKIT_HOME this user may not enter
        raise ConfigError(
            f"{path}: cannot look for a settings file: {exc.strerror}",
            hint="check the permissions of DRKIT_HOME, or pass --config FILE",
        ) from exc


def load_or_default(path: Path | None) -> Settings:
    """Load ``path``, or return the default settings when ``path`` is None."""
    if path is None:
        from drkit.settings.model import Settings

        return Settings()
    from drkit.settings.loader import load_settings

    return load_settings(path)
