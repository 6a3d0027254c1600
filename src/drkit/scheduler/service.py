"""`drkit serve` assembled: jobs, executor, monitor duties, alerting and the HTTP face.

This module only wires the parts together from the settings; each part has
its own module and tests.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry

from drkit.catalog import Catalog
from drkit.catalog.types import utcnow
from drkit.monitor.alerts import AlertChanges, reconcile
from drkit.monitor.facts import gather
from drkit.monitor.http import serve_http
from drkit.monitor.metrics import CatalogCollector
from drkit.monitor.rules import evaluate_rules
from drkit.monitor.scan import scan_repositories
from drkit.notify.base import Notification
from drkit.notify.dispatch import Delivery, deliver
from drkit.notify.immediate import alert_notifiers
from drkit.scheduler.daemon import Daemon, Duty
from drkit.scheduler.executor import JobExecutor
from drkit.scheduler.jobs import Job, plan_jobs
from drkit.scheduler.record import StepRecorder
from drkit.scheduler.reload import SettingsWatcher
from drkit.sdnotify import READY, STOPPING, notify
from drkit.settings.model import Settings

log = logging.getLogger(__name__)


SETTINGS_CHECK_INTERVAL = timedelta(seconds=10)


class HttpFace(Protocol):
    """What serves /metrics and /healthz (and, from `drkit serve`, the API and dashboard)."""

    @property
    def server_address(self) -> tuple[Any, ...]: ...

    def shutdown(self) -> None: ...


# listen address, metrics registry, healthy() -> the running face
HttpFactory = Callable[[str, CollectorRegistry, Callable[[], bool]], HttpFace]


def _metrics_only(
    listen: str, registry: CollectorRegistry, healthy: Callable[[], bool]
) -> HttpFace:
    server, _ = serve_http(listen, registry, healthy)
    return server


@dataclass
class ServiceOptions:
    config_file: str | None
    home: Path | None = None  # drkit's home, for configuration history
    listen: str | None = None  # overrides daemon.listen
    tz: str = "UTC"
    http: HttpFactory = _metrics_only  # the face (drkit serve passes the API's)


class Service:
    """Everything `drkit serve` runs, built from one Settings."""

    def __init__(self, settings: Settings, catalog: Catalog, options: ServiceOptions) -> None:
        self.settings = settings
        self.catalog = catalog
        self.options = options
        self.jobs: list[Job] = plan_jobs(settings)
        self.notifiers = alert_notifiers(settings)
        recorder = StepRecorder(catalog, self.rescan, self._repositories_of)
        self.executor = JobExecutor(
            catalog,
            config_file=options.config_file,
            timeout=settings.daemon.job_timeout,
            on_step=recorder,
        )
        self._watcher = (
            SettingsWatcher(Path(options.config_file), self.apply) if options.config_file else None
        )
        self.daemon = Daemon(
            catalog,
            self.jobs,
            self.executor,
            max_parallel=settings.daemon.max_parallel_jobs,
            tz=ZoneInfo(options.tz),
            duties=[
                Duty("snapshot scan", settings.daemon.scan_interval, self.scan_all),
                Duty("monitor", settings.daemon.monitor_interval, self._evaluate_now),
                *self._watch_settings(),
            ],
            housekeeping=self.clean_stale_scratch,
        )

    def serve(self) -> None:
        """Run until SIGTERM or SIGINT; the running steps are interrupted and recorded."""
        server = self._start_http()
        previous = _on_signals(self._stop_signal)
        if previous and self._watcher is not None:  # SIGHUP: re-read drkit.yaml now
            previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._reload_signal)
        notify(READY, f"STATUS=serving; {len(self.jobs)} jobs")  # Type=notify units
        try:
            self.daemon.serve()
        finally:
            _restore_signals(previous)
            if server is not None:
                server.shutdown()

    def stop(self) -> None:
        self.daemon.stop()

    def apply(self, settings: Settings) -> None:
        """Run with new settings from now on: jobs, notifiers, objectives; version them."""
        self.settings = settings
        self.jobs = plan_jobs(settings)
        self.daemon.jobs = list(self.jobs)
        self.notifiers = alert_notifiers(settings)
        if self.options.config_file and self.options.home:
            from drkit.confighistory.hook import record_settings_change

            record_settings_change(
                settings,
                Path(self.options.config_file),
                self.options.home,
                lambda: self.catalog,
                message="drkit.yaml changed (seen by the daemon)",
            )

    def clean_stale_scratch(self) -> list[str]:
        """Remove restore-test scratch a killed run left (SIGKILL runs no cleanup)."""
        from drkit.verify.scratch import remove_stale_scratch

        roots = {
            policy.verification.restore_test.scratch
            or (self.options.home / "scratch" if self.options.home else None)
            for policy in self.settings.policies.values()
        }
        removed = [p for root in sorted(r for r in roots if r) for p in remove_stale_scratch(root)]
        if removed:
            log.warning("removed restore-test scratch left by a killed run: %s", removed)
        return removed

    def _watch_settings(self) -> list[Duty]:
        if self._watcher is None:
            return []
        return [Duty("settings", SETTINGS_CHECK_INTERVAL, self._watcher.check)]

    def scan_all(self) -> None:
        self.rescan(sorted(self.settings.repositories))

    def rescan(self, repositories: list[str]) -> None:
        scan_repositories(self.catalog, repositories, self.options.config_file)

    def evaluate(self, now: datetime | None = None) -> AlertChanges:
        now = now or utcnow()
        conditions = evaluate_rules(gather(self.catalog, self.settings, now))
        return reconcile(
            self.catalog,
            conditions,
            now,
            repeat_interval=self.settings.alerts.repeat_interval,
            send=self._send,
        )

    def _evaluate_now(self) -> None:
        self.evaluate()

    def _send(self, notification: Notification) -> Sequence[Delivery]:
        return deliver(notification, self.notifiers) if self.notifiers else []

    def _repositories_of(self, job: Job) -> list[str]:
        if job.repository:
            return [job.repository]
        policy = self.settings.policies.get(job.subject)
        return list(policy.repositories) if policy else sorted(self.settings.repositories)

    def _start_http(self) -> HttpFace | None:
        listen = (
            self.options.listen
            if self.options.listen is not None
            else (self.settings.daemon.listen)
        )
        if not listen:
            return None
        registry = CollectorRegistry()
        registry.register(CatalogCollector(self.catalog, lambda: self.settings, utcnow))
        server = self.options.http(listen, registry, lambda: not self.daemon.stop_event.is_set())
        host, port = server.server_address[:2]
        scheme = getattr(server, "scheme", "http")
        log.info("serving /metrics, /healthz and /api on %s://%s:%d", scheme, host, port)
        return server

    def _reload_signal(self, _signum: int, _frame: FrameType | None) -> None:
        log.warning("received SIGHUP: reloading drkit.yaml")
        if self._watcher is not None:
            self._watcher.check(force=True)

    def _stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.warning("received %s: stopping", signal.Signals(signum).name)
        notify(STOPPING, "STATUS=stopping: waiting for running steps to end")
        self.stop()


_Handler = signal.Handlers | int | None


def _on_signals(handler: signal._HANDLER) -> dict[int, _Handler | object]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}


def _restore_signals(previous: dict[int, _Handler | object]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)  # type: ignore[arg-type]
