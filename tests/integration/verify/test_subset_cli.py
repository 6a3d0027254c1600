"""`drkit verify subset`: the rotation over a real repository, remembered in the catalog."""

from __future__ import annotations

from pathlib import Path

from drkit.catalog import Catalog
from drkit.storage.base import FileKind
from drkit.verify.ledger_catalog import CatalogPackCheckLedger
from tests.conftest import Runner
from tests.fixtures.damage import RANDOM_BIN, Backup
from tests.integration.verify.conftest import as_json, text


def ledger(drkit_env: dict[str, str], backup: Backup) -> set[str]:
    catalog = Catalog.open(f"sqlite:///{Path(drkit_env['DRKIT_HOME']) / 'catalog.db'}")
    return set(CatalogPackCheckLedger(catalog).last_checked(backup.open().config.id))


def test_runs_rotate_until_every_pack_was_read(
    initialized: Runner, backup: Backup, drkit_env: dict[str, str]
) -> None:
    packs = {i.name for i in backup.open().backend.list(FileKind.PACK)}
    assert len(packs) >= 2
    args = ("verify", "subset", "--period", "30d", "--interval", "1d", "--by", "count", "--json")

    first = as_json(initialized(*args).check())
    assert first["ok"] and first["packs_total"] == len(packs)
    assert len(first["results"]) == 1  # ceil(packs / 29 runs)
    assert len(first["overdue"]) == len(packs) - 1

    read = {r["pack"] for r in first["results"]}
    for _ in range(len(packs) - 1):
        result = as_json(initialized(*args).check())
        read |= {r["pack"] for r in result["results"]}
    assert read == packs
    assert result["overdue"] == []
    assert ledger(drkit_env, backup) == packs


def test_a_damaged_pack_is_found_and_named(initialized: Runner, backup: Backup) -> None:
    pack = backup.damage_blob(backup.node(RANDOM_BIN).content[0]).pack

    done = initialized("verify", "subset", "--period", "1d", "--interval", "1d")

    assert done.returncode == 13, text(done)
    assert pack in done.stdout  # the checker's message names the pack
    assert pack[:12] in done.stderr
    assert "1 damaged" in done.stdout


def test_an_invalid_cadence_is_a_usage_error(initialized: Runner, backup: Backup) -> None:
    done = initialized("verify", "subset", "--period", "soon")
    assert done.returncode == 2 and "--period" in done.stderr
