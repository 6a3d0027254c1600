"""The runbook directory: one ``NAME.yaml`` file per runbook.

The directory is ``runbooks.dir`` in drkit.yaml (a relative path is taken
from the directory of drkit.yaml), else ``runbooks/`` in drkit's home.
Saving writes the file atomically, so a reader never sees half a runbook.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from drkit.runbooks.errors import RunbookInvalid, RunbookNotFound
from drkit.runbooks.loader import LoadedRunbook, load_runbook, parse_runbook
from drkit.settings.model import Settings

SUFFIXES = (".yaml", ".yml")


def runbook_dir(settings: Settings, settings_file: Path | None, home: Path) -> Path:
    configured = settings.runbooks.dir
    if configured is None:
        return home / "runbooks"
    configured = configured.expanduser()
    if configured.is_absolute() or settings_file is None:
        return configured
    return settings_file.parent / configured


class RunbookStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.iterdir() if p.suffix in SUFFIXES)

    def path(self, name: str) -> Path:
        for suffix in SUFFIXES:
            candidate = self.directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
        raise RunbookNotFound(
            f"no runbook {name!r} in {self.directory}",
            hint=f"runbooks there: {', '.join(self.names()) or 'none'}; "
            "`drkit runbook save FILE` adds one",
        )

    def load(self, name: str) -> LoadedRunbook:
        loaded = load_runbook(self.path(name))
        _check_name(loaded, name)
        return loaded

    def save(self, text: str, source: Path) -> LoadedRunbook:
        """Check ``text`` and write it as ``NAME.yaml``; return it as now stored."""
        loaded = parse_runbook(text, source)
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{loaded.name}.yaml"
        for suffix in SUFFIXES[1:]:
            (self.directory / f"{loaded.name}{suffix}").unlink(missing_ok=True)
        _write_atomically(target, text)
        return LoadedRunbook(loaded.runbook, target, text)


def _check_name(loaded: LoadedRunbook, name: str) -> None:
    if loaded.name != name:
        raise RunbookInvalid(
            f"{loaded.path}:1: name: the runbook is called {loaded.name!r} "
            f"but its file is {loaded.path.name}",
            hint=f"rename the file to {loaded.name}.yaml or change `name:`",
        )


def _write_atomically(target: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
