"""Prometheus metrics, computed from the catalog at scrape time.

Nothing is counted in memory: a scrape gathers the same facts the alert
rules see, so /metrics and alerts always agree, and a restarted daemon
reports the same numbers as before. Names follow the Prometheus naming
guide: base units as suffixes (``_seconds``, ``_bytes``), no label named
like a target label (a scheduled job is ``drkit_job``, never ``job``, which
Prometheus sets on every series it scrapes), and ``drkit_build_info``.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from drkit import __version__
from drkit.catalog import Catalog
from drkit.catalog.tables import AlertRow, SnapshotRow
from drkit.monitor.facts import Facts, gather
from drkit.settings.model import Settings

_JOB_STATUS = {"succeeded": 1.0}


class CatalogCollector(Collector):
    def __init__(
        self, catalog: Catalog, settings: Callable[[], Settings], clock: Callable[[], datetime]
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.clock()
        facts = gather(self.catalog, self.settings(), now)
        yield _build_info()
        yield from _snapshot_metrics(facts)
        yield from _objective_metrics(facts)
        yield from _check_metrics(facts)
        yield from _job_metrics(facts)
        yield self._bytes_added()
        yield self._alerts()

    def _bytes_added(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "drkit_repository_added_bytes",
            "Bytes stored by all snapshots seen in the repository (after dedup and compression)",
            labels=["repository"],
        )
        query = select(SnapshotRow.repository, func.sum(SnapshotRow.bytes_added)).group_by(
            SnapshotRow.repository
        )
        with self.catalog.session() as session:
            for repo, total in session.execute(query):
                family.add_metric([repo], float(total or 0))
        return family

    def _alerts(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily("drkit_alerts_open", "Open alerts", labels=["severity"])
        query = (
            select(AlertRow.severity, func.count())
            .where(AlertRow.status == "open")
            .group_by(AlertRow.severity)
        )
        counts = {s: 0 for s in ("info", "warning", "error", "critical")}
        with self.catalog.session() as session:
            counts.update({sev: n for sev, n in session.execute(query)})
        for severity, count in counts.items():
            family.add_metric([severity], float(count))
        return family


def _snapshot_metrics(facts: Facts) -> Iterator[GaugeMetricFamily]:
    newest = GaugeMetricFamily(
        "drkit_snapshot_age_seconds",
        "Age of the newest snapshot of a policy in a repository",
        labels=["policy", "repository"],
    )
    verified = GaugeMetricFamily(
        "drkit_verified_snapshot_age_seconds",
        "Age of the newest verified snapshot (checked after it was made): the measured RPO",
        labels=["policy", "repository"],
    )
    for policy in facts.policies:
        for repo in policy.repositories:
            labels = [policy.name, repo.name]
            if repo.newest_snapshot is not None:
                newest.add_metric(labels, (facts.now - repo.newest_snapshot).total_seconds())
            if repo.newest_verified is not None:
                verified.add_metric(labels, (facts.now - repo.newest_verified).total_seconds())
    yield newest
    yield verified


def _objective_metrics(facts: Facts) -> Iterator[GaugeMetricFamily]:
    rpo = GaugeMetricFamily("drkit_rpo_objective_seconds", "RPO of a policy", labels=["policy"])
    rto = GaugeMetricFamily("drkit_rto_objective_seconds", "RTO of a policy", labels=["policy"])
    measured = GaugeMetricFamily(
        "drkit_restore_duration_seconds",
        "Duration of the latest successful restore test or drill of a source: the measured RTO",
        labels=["policy", "repository", "source"],
    )
    restore_ok = GaugeMetricFamily(
        "drkit_restore_test_ok",
        "1 when the latest restore test or drill of a source succeeded (absent: never tested)",
        labels=["policy", "repository", "source"],
    )
    for policy in facts.policies:
        if policy.rpo is not None:
            rpo.add_metric([policy.name], policy.rpo.total_seconds())
        if policy.rto is not None:
            rto.add_metric([policy.name], policy.rto.total_seconds())
        for repo in policy.repositories:
            for restore in repo.restores:
                labels = [policy.name, repo.name, restore.source]
                if restore.last_good is not None:
                    measured.add_metric(labels, restore.last_good.duration_s)
                if restore.last is not None:
                    restore_ok.add_metric(labels, 1.0 if restore.last.ok else 0.0)
    yield from (rpo, rto, measured, restore_ok)


def _build_info() -> GaugeMetricFamily:
    info = GaugeMetricFamily(
        "drkit_build_info",
        "Always 1; the labels name the drkit version and the Python running it",
        labels=["version", "python"],
    )
    info.add_metric([__version__, platform.python_version()], 1.0)
    return info


def _check_metrics(facts: Facts) -> Iterator[GaugeMetricFamily]:
    ok = GaugeMetricFamily(
        "drkit_check_ok",
        "1 unless a check found problems no later evidence covers (a structure check "
        "does not clear damage a read found)",
        labels=["repository"],
    )
    when = GaugeMetricFamily(
        "drkit_check_timestamp_seconds", "When the latest check ran", labels=["repository"]
    )
    seen: set[str] = set()
    for policy in facts.policies:
        for repo in policy.repositories:
            if repo.name in seen or repo.last_check is None:
                continue
            seen.add(repo.name)
            ok.add_metric([repo.name], 0.0 if repo.damage is not None else 1.0)
            when.add_metric([repo.name], repo.last_check.time.timestamp())
    yield from (ok, when)


def _job_metrics(facts: Facts) -> Iterator[GaugeMetricFamily]:
    status = GaugeMetricFamily(
        "drkit_job_last_run_success",
        "1 when the latest run of the job succeeded",
        labels=["drkit_job"],
    )
    duration = GaugeMetricFamily(
        "drkit_job_last_run_duration_seconds", "Duration of the latest run", labels=["drkit_job"]
    )
    finished = GaugeMetricFamily(
        "drkit_job_last_run_timestamp_seconds", "When the latest run ended", labels=["drkit_job"]
    )
    for job in facts.jobs:
        status.add_metric([job.job], _JOB_STATUS.get(job.status, 0.0))
        if job.duration_s is not None:
            duration.add_metric([job.job], job.duration_s)
        if job.finished_at is not None:
            finished.add_metric([job.job], job.finished_at.timestamp())
    yield from (status, duration, finished)
