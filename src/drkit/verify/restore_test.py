"""Restore tests: prove a snapshot restores, and time it as RTO evidence.

One test runs these steps, each timed and reported to the hooks as it
happens (see :mod:`drkit.verify.steps`):

1. **prepare** - choose the snapshot (:class:`SnapshotChoice`), list what it
   holds, and make a scratch directory if the free space allows;
2. **restore** - the snapshot into the scratch directory (the repository's
   own restorer, which verifies each blob before writing it);
3. **verify** - read every restored file back and compare it with the blob
   ids recorded in the snapshot's trees (:mod:`drkit.verify.readback`);
   for a database dump, then restore it into a scratch server and run the
   source's validation queries (:mod:`drkit.verify.db_restore`);
4. **validate** - each user command in turn (:mod:`drkit.verify.validation`);
5. **cleanup** - the scratch directory is removed, always: after a failure,
   an exception or Ctrl-C too.

A step that fails ends the test (cleanup still runs). The repository is
held under a shared lock only while choosing and restoring, so a prune can
run during a long validation. The measured RTO is the time from the start
of prepare to the end of the last validation command: what it took to get
usable data back. A problem of the test itself (no snapshot, no scratch
space) raises a :class:`~drkit.errors.DrkitError` after its prepare step
was reported; everything after that is a :class:`RestoreTestResult`.
"""

from __future__ import annotations

import random
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drkit.errors import DrkitError
from drkit.repository.locks import RepoLock
from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.repository.restorer import Restorer
from drkit.repository.snapshot import Snapshot
from drkit.sources.registry import PolicySource
from drkit.verify.db_restore import checks_for, database_restore, restores_into_a_server
from drkit.verify.readback import FileProblem, Manifest, build_manifest, read_back
from drkit.verify.scratch import make_scratch, remove_scratch
from drkit.verify.snapshot_choice import SnapshotChoice
from drkit.verify.steps import StepHooks, StepJournal, StepKind, StepOutcome, StepResult
from drkit.verify.validation import ValidationCommand, run_validation

DEFAULT_COMMAND_TIMEOUT = timedelta(hours=1)


@dataclass(frozen=True)
class RestoreTestSpec:
    """What to restore, where, and how to prove the result usable."""

    scratch_root: Path
    choice: SnapshotChoice = field(default_factory=SnapshotChoice)
    validate: tuple[ValidationCommand, ...] = ()
    command_timeout: timedelta = DEFAULT_COMMAND_TIMEOUT  # per validation command
    workers: int = 2
    # the policy's sources: a database dump is restored into a scratch server and
    # checked with its source's validation queries (drkit.verify.db_restore)
    sources: tuple[PolicySource, ...] = ()
    database_restore: bool = True


@dataclass(frozen=True)
class RestoreTestResult:
    """Everything a restore test found and how long each part took."""

    repository: str  # the repository as the caller named it (drkit.yaml name or URL)
    repository_id: str
    snapshot_id: str
    snapshot_time: datetime
    started_at: datetime
    files: int
    bytes: int
    steps: tuple[StepResult, ...]
    problems: tuple[FileProblem, ...]  # paths that did not come back intact
    warnings: tuple[str, ...]
    total_s: float  # every step, cleanup included
    rto_s: float  # prepare to the end of the last validation: the measured recovery time
    # what the snapshot holds (its paths: a source's label, e.g. postgres://h:5432/db):
    # the sources this test is evidence for
    sources: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(s.ok for s in self.steps) and not self.problems

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if not s.ok), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "repository": self.repository,
            "repository_id": self.repository_id,
            "snapshot": self.snapshot_id,
            "snapshot_time": self.snapshot_time.isoformat(),
            "sources": list(self.sources),
            "started_at": self.started_at.isoformat(),
            "files": self.files,
            "bytes": self.bytes,
            "rto_s": round(self.rto_s, 6),
            "total_s": round(self.total_s, 6),
            "steps": [s.to_json() for s in self.steps],
            "problems": [{"path": p.path, "reason": p.reason} for p in self.problems],
            "warnings": list(self.warnings),
        }


@dataclass
class _Run:
    """The state of one test as its steps fill it in."""

    repo: Repository
    spec: RestoreTestSpec
    progress: Progress
    journal: StepJournal
    snapshot: Snapshot | None = None
    manifest: Manifest = field(default_factory=Manifest)
    scratch: Path | None = None
    restored_files: int = 0
    problems: list[FileProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def run_restore_test(
    repo: Repository,
    spec: RestoreTestSpec,
    *,
    repository: str = "",
    hooks: StepHooks | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> RestoreTestResult:
    """Run one restore test of ``repo`` (opened; its index is loaded here if it was not)."""
    started_at = now or datetime.now(UTC)
    run = _Run(repo, spec, progress or Progress(), StepJournal(hooks or StepHooks()))
    t0 = time.monotonic()
    rto_s = 0.0
    try:
        _restore(run, started_at, rng)
        if run.journal.ok:
            _verify(run)
        if run.journal.ok and spec.database_restore:
            _database(run)
        for command in spec.validate:
            if not run.journal.ok:
                break
            _validate(run, command)
        rto_s = time.monotonic() - t0
    finally:
        if run.scratch is not None:
            _cleanup(run)
    return _result(run, repository, started_at, rto_s, time.monotonic() - t0)


def _restore(run: _Run, now: datetime, rng: random.Random | None) -> None:
    """Prepare and restore under one shared lock: the snapshot cannot be pruned meanwhile."""
    if not run.repo.index_files:
        run.repo.load_index()
    with RepoLock(run.repo, exclusive=False, operation="restore test"):
        with run.journal.step("prepare", StepKind.PREPARE) as step:
            _prepare(run, step, now, rng)
        # From here on a failure is the test's finding, not an error: it stays in the result.
        with suppress(DrkitError), run.journal.step("restore", StepKind.RESTORE) as step:
            _restore_into_scratch(run, step)


def _prepare(run: _Run, step: StepOutcome, now: datetime, rng: random.Random | None) -> None:
    snapshots = run.repo.snapshots(
        on_damaged=lambda name, exc: run.warnings.append(
            f"snapshot {name[:8]} is damaged and was not considered: {exc}"
        )
    )
    run.snapshot = snap = run.spec.choice.pick(snapshots, now, rng)
    run.manifest = build_manifest(run.repo, snap.tree)
    run.scratch = make_scratch(run.spec.scratch_root, run.manifest.bytes)
    step.detail = (
        f"snapshot {snap.short_id} of {snap.time:%Y-%m-%d %H:%M:%S %Z} "
        f"({run.spec.choice.describe()}): {len(run.manifest.files)} files, "
        f"{run.manifest.bytes} bytes; scratch {run.scratch}"
    )


def _restore_into_scratch(run: _Run, step: StepOutcome) -> None:
    assert run.snapshot is not None and run.scratch is not None
    restorer = Restorer(
        run.repo, run.snapshot, str(run.scratch), progress=run.progress, workers=run.spec.workers
    )
    result = restorer.run()
    run.restored_files = result.files
    run.warnings += result.warnings
    gaps = run.manifest.gaps
    run.warnings += [f"{path}: {why}" for path, why in sorted(gaps.items())]
    root = str(run.scratch)
    for path, why in sorted(result.failed.items()):
        rel = path.removeprefix(root) if path.startswith(root + "/") else path
        if rel not in gaps:
            run.problems.append(FileProblem(rel, why))
    step.detail = f"{result.files} files, {result.dirs} directories, {result.bytes} bytes"
    if run.problems:
        step.fail(_summary("could not be restored", run.problems))


def _verify(run: _Run) -> None:
    assert run.scratch is not None
    with suppress(DrkitError), run.journal.step("verify", StepKind.VERIFY) as step:
        found = read_back(
            str(run.scratch),
            run.manifest,
            run.repo.hash_id,
            skip=set(run.manifest.gaps) | set(run.manifest.unreadable),
            progress=run.progress,
            workers=run.spec.workers,
        )
        run.problems += found
        step.detail = f"read back {len(run.manifest.files)} files, {run.manifest.bytes} bytes"
        if found:
            step.fail(_summary("differ from the snapshot", found))


def _database(run: _Run) -> None:
    """A dump of a database: restore it into a scratch server and query it."""
    snap = run.snapshot
    assert snap is not None and run.scratch is not None
    if not restores_into_a_server(snap):
        return
    with RepoLock(run.repo, exclusive=False, operation="restore test"):
        checks = checks_for(snap, run.spec.sources)
        database_restore(run.repo, snap, run.scratch, checks, run.journal, run.progress)


def _validate(run: _Run, command: ValidationCommand) -> None:
    assert run.scratch is not None
    with run.journal.step(f"validate: {command.name}", StepKind.VALIDATE) as step:
        outcome = run_validation(command, str(run.scratch), run.spec.command_timeout)
        step.output_tail = outcome.output_tail
        if not outcome.ok:
            step.fail(outcome.error)


def _cleanup(run: _Run) -> None:
    assert run.scratch is not None
    with run.journal.step("cleanup", StepKind.CLEANUP) as step:
        step.detail = f"removed {run.scratch}"
        error = remove_scratch(run.scratch)
        if error:
            step.fail(error)


def _summary(what: str, problems: list[FileProblem]) -> str:
    shown = "; ".join(f"{p.path}: {p.reason}" for p in problems[:5])
    more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    return f"{len(problems)} file(s) {what}: {shown}{more}"


def _result(
    run: _Run, repository: str, started_at: datetime, rto_s: float, total_s: float
) -> RestoreTestResult:
    snap = run.snapshot
    assert snap is not None  # prepare raised otherwise
    return RestoreTestResult(
        repository=repository,
        repository_id=run.repo.config.id,
        snapshot_id=snap.id,
        snapshot_time=snap.time,
        started_at=started_at,
        files=run.restored_files,
        bytes=run.manifest.bytes,
        steps=tuple(run.journal.steps),
        problems=tuple(run.problems),
        warnings=tuple(run.warnings),
        total_s=total_s,
        rto_s=rto_s,
        sources=tuple(snap.paths),
    )
