"""Versioning drkit.yaml when drkit loads it, at almost no cost when nothing changed.

Every command that loads drkit.yaml calls :func:`record_settings_change`.
It compares a fingerprint (the file's SHA-256 and the size and mtime of the
runbooks and extra drkit files) with the one it wrote last time in
``$DRKIT_HOME/confighistory.seen``; only when they differ does it open the
catalog and store a version (which the catalog again skips if the content
is the same). A failure here never stops the command: it is logged and tried
again on the next load.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from drkit.confighistory.drkit_files import drkit_files

if TYPE_CHECKING:  # the catalog (SQLAlchemy, Alembic) is imported only when needed
    from drkit.catalog import Catalog
    from drkit.confighistory.model import ConfigVersion
    from drkit.settings.model import Settings

log = logging.getLogger(__name__)

SEEN_FILE = "confighistory.seen"
DISABLE_ENV = "DRKIT_CONFIG_HISTORY"  # "off" turns the hook off (e.g. read-only homes)


def fingerprint(settings: Settings, settings_path: Path, home: Path) -> str:
    digest = hashlib.sha256(str(settings_path.absolute()).encode() + b"\x00")
    digest.update(settings_path.read_bytes())
    for name, path in drkit_files(settings, settings_path, home):
        st = path.stat()
        digest.update(f"\x00{name}\x00{st.st_size}\x00{st.st_mtime_ns}".encode())
    return digest.hexdigest()


def record_settings_change(
    settings: Settings,
    settings_path: Path,
    home: Path,
    open_catalog: Callable[[], Catalog],
    *,
    author: str | None = None,
    message: str = "drkit.yaml changed (seen at load)",
) -> ConfigVersion | None:
    """Store drkit's configuration as a version if drkit.yaml (or a drkit file) changed."""
    if os.environ.get(DISABLE_ENV, "").lower() == "off":
        return None
    try:
        seen = fingerprint(settings, settings_path, home)
        if _last_seen(home) == seen:
            return None
        from drkit.confighistory.service import History, default_author

        history = History(open_catalog(), settings, settings_path, home)
        version = history.record_drkit(author=author or default_author(), message=message)
        _remember(home, seen)
        return version
    except Exception as exc:  # the command the user ran matters more than its history
        log.warning("configuration history: drkit.yaml could not be versioned: %s", exc)
        log.debug("configuration history hook failed", exc_info=True)
        return None


def _last_seen(home: Path) -> str | None:
    try:
        return (home / SEEN_FILE).read_text().strip()
    except OSError:
        return None


def _remember(home: Path, seen: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    temp = home / f".{SEEN_FILE}.{secrets.token_hex(6)}"
    temp.write_text(seen + "\n")
    os.replace(temp, home / SEEN_FILE)
