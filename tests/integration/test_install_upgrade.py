"""Upgrades as docs/install.md says: the first command migrates an old catalog; a rollback
onto a newer catalog stops with a clear error instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from drkit.catalog import Catalog
from drkit.catalog.engine import _alembic_config, _head_revisions


def _drkit(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DRKIT_HOME": str(home)}
    for name in ("DRKIT_CONFIG", "DRKIT_REPO"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "drkit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _revisions(db: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = {row[0] for row in conn.execute(text("select version_num from alembic_version"))}
    engine.dispose()
    return found


def test_the_first_command_after_an_upgrade_migrates_the_catalog(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db = home / "catalog.db"
    engine = create_engine(f"sqlite:///{db}")
    config = _alembic_config()
    with engine.begin() as conn:  # the catalog an older drkit left: only the first migration
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    engine.dispose()
    assert _revisions(db) == {"0001"}
    result = _drkit(home, "runs")
    assert result.returncode == 0, result.stderr
    assert _revisions(db) == _head_revisions() != {"0001"}


def test_an_older_drkit_refuses_a_newer_catalog_with_a_hint(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Catalog.open(f"sqlite:///{home / 'catalog.db'}").close()
    engine = create_engine(f"sqlite:///{home / 'catalog.db'}")
    with engine.begin() as conn:  # what a future migration would leave behind
        conn.execute(text("insert into alembic_version values ('9999')"))
    engine.dispose()
    result = _drkit(home, "runs")
    assert result.returncode == 40
    assert "schema 9999, newer than this drkit knows" in result.stderr
    assert "restore the catalog copy" in result.stderr
    assert "Traceback" not in result.stderr
    assert "9999" in _revisions(home / "catalog.db")  # nothing was changed
