"""/metrics by the Prometheus naming guide, and a failed restore is no RTO."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from drkit import __version__
from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus
from drkit.catalog.tables import VerificationRow
from drkit.monitor.metrics import CatalogCollector
from drkit.settings.model import Settings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def scrape(tmp_path: Path, restores: list[tuple[bool, float]]) -> dict[str, list[Sample]]:
    settings = Settings.model_validate(
        {
            "repositories": {"local": {"url": str(tmp_path / "repo")}},
            "policies": {"app": {"sources": [str(tmp_path / "srv")], "repositories": ["local"]}},
        }
    )
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    RunJournal.start(catalog, kind="backup", job="backup:app").finish(RunStatus.SUCCEEDED)
    with catalog.session() as session:
        for i, (ok, duration) in enumerate(restores):
            session.add(
                VerificationRow(
                    repository="local",
                    subject="app",
                    kind="restore-test",
                    ok=ok,
                    started_at=NOW - timedelta(hours=len(restores) - i),
                    duration_s=duration,
                    source=str(tmp_path / "srv"),
                )
            )
    registry = CollectorRegistry()
    registry.register(CatalogCollector(catalog, lambda: settings, lambda: NOW))
    samples: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def test_names_follow_the_naming_guide(tmp_path: Path) -> None:
    samples = scrape(tmp_path, [])
    assert all("job" not in s.labels for series in samples.values() for s in series)
    (job,) = samples["drkit_job_last_run_success"]
    assert job.labels == {"drkit_job": "backup:app"}
    (info,) = samples["drkit_build_info"]
    assert info.labels["version"] == __version__ and info.value == 1.0
    assert "drkit_repository_bytes_added" not in samples  # the unit goes last


def test_a_failed_restore_test_is_not_exported_as_the_measured_rto(tmp_path: Path) -> None:
    samples = scrape(tmp_path, [(True, 42.0), (False, 3.0)])
    (rto,) = samples["drkit_restore_duration_seconds"]
    assert rto.value == 42.0  # the good one, not the failure's 3 s
    assert rto.labels["source"] == str(tmp_path / "srv")
    (ok,) = samples["drkit_restore_test_ok"]
    assert ok.value == 0.0
    assert "drkit_restore_duration_seconds" not in scrape(tmp_path / "b", [(False, 3.0)])
