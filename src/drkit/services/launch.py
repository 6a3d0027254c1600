"""Starting long operations in the background of a long-lived face (`drkit serve`'s API).

:meth:`Launcher.launch` records the run in the catalog first (``running``),
queues the operation and returns the run's id at once; a small pool of
worker threads (``workers``, at most ``queue_limit`` waiting) runs it with a
:class:`JournalProgress` that writes each phase as a journal step and keeps
the latest progress in memory for live viewers. The operation takes its own
repository locks, as from the CLI: a lock held elsewhere fails the run with
``repository-locked``. The run ends ``succeeded`` with the operation's
``to_json()`` (the CLI's ``--json``) as its result, or ``failed`` with the
error's code, message and hint under ``result.error`` (``cancelled`` when the
error is an operator's cancel, :class:`~drkit.runbooks.errors.RunCancelled`).
A resume goes on in the run it resumes: ``reopen`` opens that run again
instead of recording a new one. A stop
(:meth:`Launcher.shutdown`, on SIGTERM) interrupts the running operations at
their next progress report and marks every run not finished ``interrupted``;
a run whose process died (SIGKILL, a crash) is closed by the daemon's next
start (:func:`drkit.catalog.runs.close_abandoned`), so no run stays ``running``.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from drkit.catalog.runs import RunJournal, RunStatus, StepStatus
from drkit.errors import DrkitError
from drkit.services.workspace import Workspace

log = logging.getLogger("drkit.launch")

RUN_TRIGGER = "api"


class Result(Protocol):
    def to_json(self) -> Any: ...


# the operation: runs in a workspace of its own, reports to the progress, returns a result
Operation = Callable[[Workspace, "JournalProgress"], Result]
# the DrkitError a result stands for (a failed database source, unread files), if any
Judge = Callable[[Any], DrkitError | None]


class LauncherBusy(DrkitError):
    code = "launcher-busy"
    exit_code = 75
    default_hint = "wait for running operations to finish (`drkit runs --status running`)"


class RunNotCancellable(DrkitError):
    code = "run-not-cancellable"
    default_hint = "`drkit runs show ID` shows how it ended, or what it is doing"


class LauncherStopped(DrkitError):
    code = "daemon-stopping"
    exit_code = 75
    default_hint = "the daemon is stopping; start the operation again once it is back"


class Stopped(BaseException):
    """Raised from a progress report once the daemon stops, so the operation unwinds."""


@dataclass
class LiveProgress:
    """The latest report of a running operation (what an event stream shows between steps)."""

    phase: str = ""
    done: int = 0
    total: int | None = None
    warnings: list[str] = field(default_factory=list)
    seq: int = 0  # bumped at every report: a viewer sends what changed


class JournalProgress:
    """A :class:`~drkit.services.progress.Progress` writing phases as journal steps."""

    def __init__(
        self,
        journal: RunJournal,
        live: LiveProgress,
        stopping: threading.Event,
        cancel: CancelRequest | None = None,
    ) -> None:
        self.journal = journal
        self.live = live
        self.stopping = stopping
        self.cancel = cancel
        self._step: int | None = None

    def phase(self, name: str) -> None:
        self._check()
        self.close(StepStatus.SUCCEEDED)
        self._step = self.journal.begin_step(name)
        self.live.phase, self.live.done, self.live.total = name, 0, None
        self.live.seq += 1

    def advance(self, done: int, total: int | None = None) -> None:
        self._check()
        self.live.done, self.live.total = done, total
        self.live.seq += 1

    def warn(self, message: str) -> None:
        self.live.warnings.append(message)
        self.live.seq += 1

    def close(self, status: StepStatus, error: str | None = None) -> None:
        """End the open step (at the next phase, or with the run)."""
        if self._step is None:
            return
        details = {"done": self.live.done, "total": self.live.total}
        output = "\n".join(self.live.warnings)
        self.journal.end_step(self._step, status, output=output, error=error, details=details)
        self.live.warnings = []
        self._step = None

    def _check(self) -> None:
        if self.stopping.is_set():
            raise Stopped
        if self.cancel is not None and self.cancel.asked.is_set():
            raise self.cancel.error()

    def live_only(self) -> LiveOnly:
        """This progress without journal steps: for operations journaling their own
        (a restore test's prepare, restore, verify, cleanup)."""
        return LiveOnly(self)


class LiveOnly:
    """A :class:`JournalProgress`'s live view and stop check, writing no journal step."""

    def __init__(self, progress: JournalProgress) -> None:
        self.progress = progress

    def phase(self, name: str) -> None:
        self.progress._check()
        live = self.progress.live
        live.phase, live.done, live.total = name, 0, None
        live.seq += 1

    def advance(self, done: int, total: int | None = None) -> None:
        self.progress.advance(done, total)

    def warn(self, message: str) -> None:
        self.progress.warn(message)


@dataclass
class CancelRequest:
    """An operator's cancel of one launched run: seen at the operation's next progress report."""

    asked: threading.Event = field(default_factory=threading.Event)
    by: str = ""

    def error(self) -> DrkitError:
        from drkit.runbooks.errors import RunCancelled

        return RunCancelled(
            f"cancelled by {self.by}",
            hint="what it wrote before the cancel stays (a restore's files); run it again to "
            "finish",
        )


@dataclass
class _Launched:
    run_id: int
    kind: str
    operation: Operation
    judge: Judge | None
    live: LiveProgress
    finished: threading.Event = field(default_factory=threading.Event)
    closed: bool = False  # the run's end is written (by its worker or by the stop)
    cancel: CancelRequest = field(default_factory=CancelRequest)
    cancellable: bool = False
    """Its operation reports progress, where a cancel is seen (a runbook run has a cancel
    of its own; a job run's steps are processes that stop with the daemon)."""


class Launcher:
    """Runs operations on a bounded pool of background threads, each as a journaled run."""

    def __init__(self, workspace: Workspace, *, workers: int = 2, queue_limit: int = 16) -> None:
        self.workspace = workspace
        self.queue_limit = queue_limit
        self.stopping = threading.Event()
        self._queue: queue.Queue[_Launched | None] = queue.Queue()
        self._runs: dict[int, _Launched] = {}
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"drkit-launch-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def launch(
        self,
        kind: str,
        subject: str,
        operation: Operation,
        *,
        judge: Judge | None = None,
        subject_version: str | None = None,
        job: str | None = None,
        reopen: Callable[[], int] | None = None,
        cancellable: bool = False,
    ) -> int:
        """Record a run of ``kind`` on ``subject``, queue ``operation``; return the run's id.

        ``reopen`` (a resume) marks an existing run running again and returns its id:
        called once the launcher has room, so a busy launcher leaves the run as it was.
        ``cancellable``: the operation reports progress, so :meth:`cancel` can stop it.
        """
        if self.stopping.is_set():
            raise LauncherStopped("the daemon is stopping: no new operation starts")
        if self._queue.qsize() >= self.queue_limit:
            raise LauncherBusy(f"{self.queue_limit} operations are already waiting to start")
        if reopen is not None:
            run_id = reopen()
        else:
            run_id = RunJournal.start(
                self.workspace.catalog(),
                kind=kind,
                subject=subject,
                trigger=RUN_TRIGGER,
                subject_version=subject_version,
                job=job,
            ).run_id
        launched = _Launched(run_id, kind, operation, judge, LiveProgress())
        launched.cancellable = cancellable
        with self._lock:
            self._runs[run_id] = launched
        self._queue.put(launched)
        return run_id

    def live(self, run_id: int) -> LiveProgress | None:
        """The latest progress of a run this launcher is running (None: not one of its own)."""
        with self._lock:
            launched = self._runs.get(run_id)
        return launched.live if launched is not None and not launched.finished.is_set() else None

    def cancel(self, run_id: int, actor: str) -> bool:
        """Ask a run of this launcher to stop, as ``actor``: True when it will (a running
        run at its next progress report, a waiting one never starts); False when the run is
        none of this launcher's, has ended, or is of a kind that cannot be cancelled."""
        with self._lock:
            launched = self._runs.get(run_id)
            if launched is None or launched.closed or not launched.cancellable:
                return False
            launched.cancel.by = actor
            launched.cancel.asked.set()
        return True

    def wait(self, run_id: int, timeout: float | None = None) -> bool:
        """Block until the run ends; False on timeout (or when it is not one of this launcher's)."""
        with self._lock:
            launched = self._runs.get(run_id)
        return launched.finished.wait(timeout) if launched is not None else False

    def shutdown(self, grace: float = 10.0) -> list[int]:
        """Stop: running operations are interrupted, waiting ones never start; returns the
        ids of the runs marked interrupted here."""
        self.stopping.set()
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = [r for r in self._runs.values() if not r.closed]
        for launched in left:
            self._close(launched, RunStatus.INTERRUPTED, "the daemon stopped before it ended", {})
        return [r.run_id for r in left]

    # -- the workers ------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            launched = self._queue.get()
            if launched is None:
                return
            if self.stopping.is_set():
                reason = "the daemon stopped before it started"
                self._close(launched, RunStatus.INTERRUPTED, reason, {})
                continue
            if launched.cancel.asked.is_set():
                error = launched.cancel.error()
                self._fail(launched, error, {})
                continue
            try:
                self._run(launched)
            except Exception:  # bookkeeping (the catalog gone) never kills a worker
                log.exception("run %d could not be recorded", launched.run_id)
            finally:
                launched.finished.set()

    def _run(self, launched: _Launched) -> None:
        journal = RunJournal(self.workspace.catalog(), launched.run_id)
        progress = JournalProgress(journal, launched.live, self.stopping, launched.cancel)
        one = self.workspace.child()
        doc: Any = None
        try:
            result = launched.operation(one, progress)
            doc = as_json(result.to_json())
            failure = launched.judge(result) if launched.judge is not None else None
            if failure is not None:
                raise failure
        except Stopped:
            progress.close(StepStatus.INTERRUPTED, "the daemon stopped")
            self._close(launched, RunStatus.INTERRUPTED, "the daemon stopped before it ended", {})
            return
        except DrkitError as exc:
            progress.close(StepStatus.FAILED, exc.message)
            self._fail(launched, exc, doc if isinstance(doc, dict) else {})
            return
        except Exception as exc:
            log.exception("run %d (%s) failed", launched.run_id, launched.kind)
            progress.close(StepStatus.FAILED, str(exc) or type(exc).__name__)
            internal = DrkitError(
                f"{launched.kind} failed: {exc}",
                hint="the daemon's log has the details; please report it",
            )
            internal.code = "internal"
            self._fail(launched, internal, {})
            return
        finally:
            one.close()
        progress.close(StepStatus.SUCCEEDED)
        self._close(launched, RunStatus.SUCCEEDED, None, doc)

    def _fail(self, launched: _Launched, exc: DrkitError, partial: dict[str, Any]) -> None:
        error = {"code": exc.code, "message": exc.message, "hint": exc.hint}
        status = ending_of(exc)
        self._close(launched, status, exc.message, {**partial, "error": error})

    def _close(
        self, launched: _Launched, status: RunStatus, error: str | None, result: Any
    ) -> None:
        with self._lock:
            if launched.closed:
                return
            launched.closed = True
        journal = RunJournal(self.workspace.catalog(), launched.run_id)
        journal.finish(status, error=error, result=result if isinstance(result, dict) else {})
        if status is RunStatus.INTERRUPTED:
            _interrupt_open_steps(journal)
        launched.finished.set()


def ending_of(exc: DrkitError) -> RunStatus:
    """How a run that raised ``exc`` ends: ``cancelled`` when an operator stopped it (the
    runbook engine's cancel), else ``failed``."""
    from drkit.runbooks.errors import RunCancelled

    return RunStatus.CANCELLED if isinstance(exc, RunCancelled) else RunStatus.FAILED


def _interrupt_open_steps(journal: RunJournal) -> None:
    from sqlalchemy import select

    from drkit.catalog.tables import StepRow
    from drkit.catalog.types import utcnow

    with journal.catalog.session() as session:
        query = select(StepRow).where(
            StepRow.run_id == journal.run_id, StepRow.status == StepStatus.RUNNING
        )
        for step in session.scalars(query):
            step.status = StepStatus.INTERRUPTED
            step.finished_at = utcnow()
            step.duration_s = (step.finished_at - step.started_at).total_seconds()


def as_json(doc: Any) -> Any:
    """``doc`` as the CLI's ``--json`` writes it (times in ISO 8601, bytes in hex)."""
    return json.loads(json.dumps(doc, default=json_default))


def json_default(value: Any) -> Any:
    """What json.dumps cannot write itself, as the CLI writes it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot encode {type(value).__name__}")
