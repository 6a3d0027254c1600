"""A repair resolves the verify alert only when it fixed what the read found.

A rotating read recorded damage in a pack (`verify:nas` opens); `drkit repair
index` rebuilds the index and reads that pack again: intact, the repair's
verification covers the failure and the alert is gone; still damaged (bytes
flipped in the pack), the repair exits 13 and the alert stays.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from drkit.catalog import Catalog
from drkit.catalog.tables import VerificationRow
from drkit.monitor.evidence import DAMAGED_LINE, packs_line
from drkit.monitor.facts import gather
from drkit.monitor.rules import evaluate_rules
from drkit.settings import load_settings
from tests.conftest import Runner, policy_settings
from tests.fixtures.damage import flip_byte


def _packs(repo: Path) -> list[Path]:
    return sorted(p for p in (repo / "data").rglob("*") if p.is_file())


def _read_found_damage(catalog: Catalog, pack: str) -> None:
    """What the daemon records when a rotating read finds ``pack`` damaged."""
    with catalog.session() as session:
        session.add(
            VerificationRow(
                repository="nas", subject="", kind="read-subset", ok=False,
                started_at=datetime.now(UTC), duration_s=1.0, snapshot_id=None,
                summary=f"pack {pack} does not match its name\n{packs_line(DAMAGED_LINE, [pack])}",
            )
        )  # fmt: skip


def _alerts(catalog: Catalog, cfg: Path) -> set[str]:
    facts = gather(catalog, load_settings(cfg), datetime.now(UTC))
    return {c.dedup_key for c in evaluate_rules(facts) if c.dedup_key.startswith("verify:")}


def test_a_repair_that_fixed_the_read_damage_resolves_the_alert_and_one_that_did_not_keeps_it(
    drkit: Runner, sample_tree: Path, tmp_path: Path, drkit_env: dict[str, str]
) -> None:
    cfg = policy_settings(tmp_path, sample_tree)
    args = ("--config", str(cfg), "--repo", "nas")
    drkit(*args, "init").check()
    drkit(*args, "backup", str(sample_tree)).check()
    pack = _packs(tmp_path / "nas")[0]
    catalog = Catalog.open(f"sqlite:///{Path(drkit_env['DRKIT_HOME']) / 'catalog.db'}")
    try:
        _read_found_damage(catalog, pack.name)
        assert _alerts(catalog, cfg) == {"verify:nas"}
        repaired = drkit(*args, "repair", "index", "--json").check()
        verified = json.loads(repaired.stdout)["verified"]
        assert verified == {"ok": True, "failures": 1, "packs": [pack.name], "damaged": [],
                            "problems": []}  # fmt: skip
        assert _alerts(catalog, cfg) == set()  # the re-read covers what the read found

        flip_byte(pack, pack.stat().st_size // 3)  # real damage a repair cannot fix
        _read_found_damage(catalog, pack.name)
        again = drkit(*args, "repair", "index")
        assert again.returncode == 13, again.stdout + again.stderr
        assert f"pack {pack.name} is still damaged" in again.stdout
        assert "still damaged" in again.stderr
        assert _alerts(catalog, cfg) == {"verify:nas"}
    finally:
        catalog.close()


def test_a_repair_of_a_repository_without_open_failures_reads_nothing_more(
    drkit: Runner, sample_tree: Path, tmp_path: Path
) -> None:
    cfg = policy_settings(tmp_path, sample_tree)
    args = ("--config", str(cfg), "--repo", "nas")
    drkit(*args, "init").check()
    drkit(*args, "backup", str(sample_tree)).check()
    done = drkit(*args, "repair", "index", "--json").check()
    assert json.loads(done.stdout)["verified"] is None
