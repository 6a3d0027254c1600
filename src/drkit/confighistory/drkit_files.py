"""Which files make up drkit's own configuration, apart from how a version holds them.

The hook that versions drkit.yaml on every command fingerprints these files
(:mod:`drkit.confighistory.hook`); keeping them here spares each command the
import of the structured parsers of :mod:`drkit.confighistory.drkit_state`.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drkit.settings.model import Settings

RUNBOOKS_PREFIX = "runbooks/"


def runbooks_dir(settings: Settings, settings_path: Path | None, home: Path) -> Path:
    """The runbook directory: ``runbooks.dir`` (relative to drkit.yaml) or home/runbooks."""
    configured = settings.runbooks.dir
    if configured is None:
        return home / "runbooks"
    if configured.is_absolute() or settings_path is None:
        return configured.expanduser()
    return settings_path.parent / configured


def drkit_files(
    settings: Settings, settings_path: Path | None, home: Path
) -> list[tuple[str, Path]]:
    """(name in the version, path now) of every file that belongs to drkit's configuration."""
    found: list[tuple[str, Path]] = []
    folder = runbooks_dir(settings, settings_path, home)
    for suffix in ("*.yaml", "*.yml"):
        found += [(RUNBOOKS_PREFIX + p.name, p) for p in folder.glob(suffix) if p.is_file()]
    base = settings_path.parent if settings_path is not None else Path.cwd()
    for pattern in settings.config_history.drkit_files:
        full = pattern if pattern.startswith("/") else str(base / pattern)
        for match in sorted(glob.glob(str(Path(full).expanduser()), recursive=True)):
            path = Path(match).absolute()
            if path.is_file():
                found.append((str(path), path))
    return sorted(set(found))
