"""Facts from the catalog: each source of a policy has its own newest snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from drkit.catalog import Catalog
from drkit.catalog.tables import SnapshotRow, VerificationRow
from drkit.monitor.facts import gather
from drkit.settings.model import Settings
from drkit.sources.registry import source_labels

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def snapshot(repo: str, snap_id: str, paths: list[str], age: timedelta) -> SnapshotRow:
    return SnapshotRow(
        repository=repo,
        snapshot_id=snap_id,
        time=NOW - age,
        paths="\n".join(paths),
        tags="policy:app",
        hostname="h",
        bytes_added=1,
        complete=True,
        first_seen=NOW,
        last_seen=NOW,
    )


def test_the_policy_is_as_fresh_as_its_stalest_source(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    settings = Settings.model_validate(
        {
            "repositories": {"local": {"url": str(tmp_path / "repo")}},
            "policies": {
                "app": {
                    "sources": [str(tmp_path / "srv"), {"type": "sqlite", "path": str(db)}],
                    "repositories": ["local"],
                    "rpo": "1d",
                }
            },
        }
    )
    files, sqlite = source_labels(settings.policies["app"].sources)
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    with catalog.session() as session:
        session.add(snapshot("local", "a" * 64, [files], HOUR))
        session.add(snapshot("local", "b" * 64, [sqlite], 30 * HOUR))
        session.add(
            VerificationRow(
                repository="local",
                subject="app",
                kind="check",
                ok=True,
                started_at=NOW - timedelta(minutes=5),
                duration_s=1.0,
            )
        )

    (policy,) = gather(catalog, settings, NOW).policies
    (repo,) = policy.repositories
    assert dict(repo.per_source) == {files: NOW - HOUR, sqlite: NOW - 30 * HOUR}
    assert repo.newest_snapshot == NOW - 30 * HOUR  # the stale database decides
    assert repo.newest_verified == NOW - 30 * HOUR


def _verification(kind: str, ok: bool, summary: str, age: timedelta) -> VerificationRow:
    return VerificationRow(
        repository="local",
        subject="app",
        kind=kind,
        ok=ok,
        started_at=NOW - age,
        duration_s=1.0,
        summary=summary,
    )


def test_damage_a_read_found_stands_until_that_pack_is_read_and_metrics_agree(
    tmp_path: Path,
) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from drkit.monitor.metrics import CatalogCollector

    settings = Settings.model_validate(
        {
            "repositories": {"local": {"url": str(tmp_path / "repo")}},
            "policies": {"app": {"sources": [str(tmp_path / "srv")], "repositories": ["local"]}},
        }
    )
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    registry = CollectorRegistry()
    registry.register(CatalogCollector(catalog, lambda: settings, lambda: NOW))

    def state() -> tuple[str | None, str]:
        (repo,) = gather(catalog, settings, NOW).policies[0].repositories
        metrics = generate_latest(registry).decode()
        ok = next(m for m in metrics.splitlines() if m.startswith("drkit_check_ok{"))
        return (repo.damage.kind if repo.damage else None), ok.rsplit(" ", 1)[1]

    with catalog.session() as session:
        session.add(_verification("read-subset", False, "bad\ndamaged packs: p1", 3 * HOUR))
        session.add(_verification("check", True, "", 2 * HOUR))  # reads no data
    assert state() == ("read-subset", "0.0")
    with catalog.session() as session:
        session.add(_verification("read-subset", True, "read packs: p2 p3", HOUR))
    assert state() == ("read-subset", "0.0")
    with catalog.session() as session:
        session.add(_verification("read-subset", True, "read packs: p1", HOUR / 2))
    assert state() == (None, "1.0")
