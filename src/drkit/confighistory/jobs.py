"""The collection job (daily by default): what ``drkit config collect`` and the daemon run.

One run, journaled step by step: drkit's own configuration, each source,
retention, then a push into each repository of ``config_history.repositories``.
Under the daemon (``DRKIT_RUN_ID`` set) the steps go into the daemon's run,
which the daemon finishes; otherwise the command starts and finishes its own
run of kind ``config-collect``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from drkit.catalog import Catalog
from drkit.catalog.runs import RunJournal, RunStatus, StepStatus
from drkit.catalog.types import utcnow
from drkit.confighistory.collect.hosts import HostPool
from drkit.confighistory.collect.runner import CollectFailure, SourceReport, collect_source
from drkit.confighistory.mirror import PushResult, push
from drkit.confighistory.retention import plan_retention
from drkit.confighistory.service import History
from drkit.errors import DrkitError
from drkit.repository.repo import Repository

RUN_KIND = "config-collect"
OpenRepository = Callable[[str], Repository]


@dataclass(frozen=True)
class CollectionResult:
    drkit_version: int | None  # stored this time; None when unchanged
    sources: tuple[SourceReport, ...]
    removed: int  # versions retention removed
    pushes: tuple[PushResult, ...]
    push_failures: tuple[CollectFailure, ...]

    @property
    def failures(self) -> list[CollectFailure]:
        return [f for s in self.sources for f in s.failures] + list(self.push_failures)

    @property
    def ok(self) -> bool:
        return not self.failures


def open_journal(catalog: Catalog, *, kind: str, subject: str) -> tuple[RunJournal, bool]:
    """The daemon's run when DRKIT_RUN_ID is set (not ours to finish), else a new run."""
    run_id = os.environ.get("DRKIT_RUN_ID")
    if run_id:
        return RunJournal(catalog, int(run_id)), False
    return RunJournal.start(catalog, kind=kind, subject=subject), True


def run_collection(
    history: History,
    *,
    author: str,
    journal: RunJournal,
    open_repository: OpenRepository | None = None,
    only: list[str] | None = None,
) -> CollectionResult:
    """Collect drkit's configuration and the sources (``only`` these, if given), then push."""
    with journal.step("drkit configuration") as outcome:
        version = history.record_drkit(author=author, message="collected")
        outcome.output = f"stored version #{version.id}" if version else "unchanged"
    reports = []
    with HostPool(history.config.inventory) as hosts:
        for source in history.config.sources:
            if only is None or source.name in only:
                reports.append(_collect(history, hosts, source.name, author, journal))
    removed = _retention(history, journal)
    pushes, push_failures = _push_all(history, journal, open_repository)
    return CollectionResult(
        version.id if version else None, tuple(reports), removed, pushes, push_failures
    )


def _collect(
    history: History, hosts: HostPool, name: str, author: str, journal: RunJournal
) -> SourceReport:
    source = next(s for s in history.config.sources if s.name == name)
    with journal.step(f"collect {name}") as outcome:
        report = collect_source(history, hosts, source, author=author)
        stored = [f for f in report.files if f.version is not None]
        outcome.output = f"{len(report.files)} files read, {len(stored)} new versions"
        outcome.details = {"stored": [str(f.scope) for f in stored]}
        if report.failures:
            outcome.status = StepStatus.FAILED
            outcome.error = "; ".join(f"{f.where}: {f.error}" for f in report.failures)
    return report


def _retention(history: History, journal: RunJournal) -> int:
    if history.config.retention.keeps_everything:
        return 0
    with journal.step("retention") as outcome:
        doomed = plan_retention(history.store.history(), history.config.retention, utcnow())
        removed = history.store.delete(v.id for v in doomed)
        outcome.output = f"{removed} versions removed"
    return removed


def _push_all(
    history: History, journal: RunJournal, open_repository: OpenRepository | None
) -> tuple[tuple[PushResult, ...], tuple[CollectFailure, ...]]:
    if open_repository is None:
        return (), ()
    results, failures = [], []
    for name in history.config.repositories:
        try:
            results.append(_push(history, journal, open_repository, name))
        except DrkitError as exc:
            failures.append(CollectFailure("push", name, "", f"{exc.message} ({exc.hint})"))
    return tuple(results), tuple(failures)


def _push(
    history: History, journal: RunJournal, open_repository: OpenRepository, name: str
) -> PushResult:
    with journal.step(f"push {name}") as outcome:
        result = push(history.store, open_repository(name), name)
        outcome.output = "unchanged" if result.skipped else f"snapshot {result.snapshot}"
    return result


def finish(journal: RunJournal, owned: bool, result: CollectionResult) -> None:
    """Close our own run (the daemon closes its runs itself)."""
    if not owned:
        return
    failures = [f"{f.where}: {f.error}" for f in result.failures]
    journal.finish(
        RunStatus.FAILED if failures else RunStatus.SUCCEEDED,
        error="; ".join(failures) or None,
        result={"failures": failures, "drkit_version": result.drkit_version},
    )


@contextmanager
def owned_run(catalog: Catalog, *, kind: str, subject: str) -> Iterator[tuple[RunJournal, bool]]:
    """A journal for a command; an exception marks our own run failed (and propagates)."""
    journal, owned = open_journal(catalog, kind=kind, subject=subject)
    try:
        yield journal, owned
    except BaseException as exc:
        if owned:
            status = RunStatus.FAILED if isinstance(exc, Exception) else RunStatus.INTERRUPTED
            journal.finish(status, error=str(exc) or type(exc).__name__)
        raise
