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


def _restore(
    kind: str, ok: bool, age: timedelta, *, source: str = "", snap: str = ""
) -> VerificationRow:
    return VerificationRow(
        repository="local",
        subject="app",
        kind=kind,
        ok=ok,
        started_at=NOW - age,
        duration_s=3.0,
        snapshot_id=snap or None,
        source=source,
    )


def test_restore_evidence_is_per_source_never_tested_and_no_snapshot_are_not_ok(
    tmp_path: Path,
) -> None:
    from drkit.monitor.facts import RestoreState

    settings = Settings.model_validate(
        {
            "repositories": {"local": {"url": str(tmp_path / "repo")}},
            "policies": {
                "app": {
                    "sources": [
                        {"type": "sqlite", "path": str(tmp_path / "a.db")},
                        {"type": "sqlite", "path": str(tmp_path / "b.db")},
                        {"type": "sqlite", "path": str(tmp_path / "c.db")},
                    ],
                    "repositories": ["local"],
                }
            },
        }
    )
    tested, untested, empty = source_labels(settings.policies["app"].sources)
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    with catalog.session() as session:
        session.add(snapshot("local", "a" * 64, [tested], HOUR))
        session.add(snapshot("local", "b" * 64, [untested], HOUR))
        session.add(_restore("drill", True, HOUR / 2, source=tested, snap="a" * 64))

    def states() -> dict[str, RestoreState]:
        (repo,) = gather(catalog, settings, NOW).policies[0].repositories
        return {r.source: r.state for r in repo.restores}

    assert states() == {
        tested: RestoreState.OK,
        untested: RestoreState.NEVER_TESTED,  # the drill tested the other source
        empty: RestoreState.NO_SNAPSHOT,
    }
    # a test of a source whose snapshots are all gone proves nothing today
    with catalog.session() as session:
        session.add(_restore("restore-test", True, HOUR / 4, source=empty))
    assert states()[empty] is RestoreState.NO_SNAPSHOT
    # a failure of the tested source is that source's, the latest counts
    with catalog.session() as session:
        session.add(_restore("restore-test", False, HOUR / 8, source=tested))
    assert states() == {
        tested: RestoreState.FAILED,
        untested: RestoreState.NEVER_TESTED,
        empty: RestoreState.NO_SNAPSHOT,
    }


def test_evidence_older_than_per_source_rows_counts_for_what_its_snapshot_held(
    tmp_path: Path,
) -> None:
    settings = Settings.model_validate(
        {
            "repositories": {"local": {"url": str(tmp_path / "repo")}},
            "policies": {
                "app": {
                    "sources": [
                        {"type": "sqlite", "path": str(tmp_path / "a.db")},
                        {"type": "sqlite", "path": str(tmp_path / "b.db")},
                    ],
                    "repositories": ["local"],
                }
            },
        }
    )
    a, b = source_labels(settings.policies["app"].sources)
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    with catalog.session() as session:
        session.add(snapshot("local", "a" * 64, [a], HOUR))
        session.add(snapshot("local", "b" * 64, [b], HOUR))
        session.add(_restore("drill", True, HOUR / 2, snap="a" * 64))  # no source: a's snapshot
        session.add(_restore("drill", True, HOUR / 2))  # no source, no snapshot: proves nothing
    (repo,) = gather(catalog, settings, NOW).policies[0].repositories
    assert repo.restore_of(a) is not None and repo.restore_of(a).last is not None  # type: ignore[union-attr]
    restore_b = repo.restore_of(b)
    assert restore_b is not None and restore_b.last is None
