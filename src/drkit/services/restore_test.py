"""Restore tests as an operation: ``drkit verify restore-test`` for every face.

:func:`restore_test` builds the test from the request and the policy's
``verification.restore_test`` settings, opens the workspace's repository and
runs :func:`drkit.verify.restore_test.run_restore_test`. Steps are reported
to a :class:`StepProgress` as they end (a face prints them, the
API streams them), bytes to its ``advance``. The result is the domain's
:class:`RestoreTestResult`: its ``to_json()`` is ``--json``, what the daemon's
journal stores and what the API returns; :func:`restore_test_failure` is the
error a face raises for a result that did not pass.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from drkit.services.progress import SILENT, Counter, Progress
from drkit.verify.errors import RestoreTestFailed
from drkit.verify.snapshot_choice import SnapshotChoice
from drkit.verify.steps import StepHooks, StepResult, StepStart

if TYPE_CHECKING:
    from drkit.catalog.runs import RunJournal
    from drkit.services.workspace import Workspace
    from drkit.settings.verification import RestoreTestSettings
    from drkit.verify.restore_test import RestoreTestResult, RestoreTestSpec
    from drkit.verify.validation import ValidationCommand


@runtime_checkable
class StepProgress(Progress, Protocol):
    """A Progress that also hears of each restore-test step as it ends."""

    def step_ended(self, step: StepResult) -> None:
        """A step (prepare, restore, verify, one validation, cleanup) has ended."""


@dataclass(frozen=True)
class RestoreOptions:
    """What a caller may set over the settings: validation commands, scratch root, timeout.

    ``validate`` given replaces the settings' commands; None keeps them.
    """

    validate: tuple[ValidationCommand, ...] | None = None
    scratch: Path | None = None
    timeout: timedelta | None = None


@dataclass(frozen=True)
class RestoreTestRequest:
    """Which snapshot to test: an id prefix, a random one of a window, by tag or path.

    With ``policy`` the policy's snapshots (its tag) are chosen, its
    ``restore_test`` settings are the defaults and its database sources are
    checked with their own queries.
    """

    snapshot: str | None = None
    window: timedelta | None = None
    tags: tuple[str, ...] = ()
    path: str | None = None
    policy: str | None = None
    options: RestoreOptions = field(default_factory=RestoreOptions)


def restore_test(
    workspace: Workspace,
    request: RestoreTestRequest,
    *,
    repository: str = "",
    progress: Progress = SILENT,
    journal: RunJournal | None = None,
) -> RestoreTestResult:
    """Restore, read back, validate and time one snapshot of the workspace's repository.

    ``repository`` is how the result names it (the drkit.yaml name or URL); each step
    is written into ``journal`` (the caller's run) as it happens, when one is given.
    """
    from drkit.policy.membership import policy_tag
    from drkit.settings.verification import RestoreTestSettings, verification_of
    from drkit.verify.restore_test import run_restore_test

    policy = workspace.policy(request.policy) if request.policy is not None else None
    defaults = verification_of(policy).restore_test if policy else RestoreTestSettings()
    tags = (*request.tags, *([policy_tag(request.policy)] if request.policy else []))
    choice = SnapshotChoice(
        snapshot=request.snapshot,
        window=request.window or defaults.window,
        tags=tags,
        path=request.path,
    )
    spec = spec_for(workspace, defaults, request.options, choice)
    if policy is not None:  # database dumps are checked with their source's queries
        spec = dataclasses.replace(spec, sources=tuple(policy.sources))
    return run_restore_test(
        workspace.open_repo(load_index=False),
        spec,
        repository=repository or workspace.repo_ref,
        hooks=step_hooks(progress, _journaled(journal)),
        progress=Counter(progress),
    )


def _journaled(journal: RunJournal | None) -> StepHooks | None:
    if journal is None:
        return None
    from drkit.verify.journaling import journal_hooks

    return journal_hooks(journal, "restore test", StepHooks())


def spec_for(
    workspace: Workspace,
    defaults: RestoreTestSettings,
    options: RestoreOptions,
    choice: SnapshotChoice,
) -> RestoreTestSpec:
    """The spec from the options, falling back on the settings."""
    from drkit.verify.restore_test import RestoreTestSpec
    from drkit.verify.validation import ValidationCommand

    commands = (
        options.validate
        if options.validate
        else tuple(ValidationCommand(tuple(argv)) for argv in defaults.validation_commands)
    )
    return RestoreTestSpec(
        scratch_root=options.scratch or defaults.scratch or workspace.home / "scratch",
        choice=choice,
        validate=commands,
        command_timeout=options.timeout or defaults.timeout,
    )


def step_hooks(progress: Progress, also: StepHooks | None = None) -> StepHooks:
    """Hooks telling ``progress`` of each step as it ends (``step_ended``), then ``also``
    (a journal)."""

    def on_start(step: StepStart) -> None:
        if also is not None and also.on_step_start is not None:
            also.on_step_start(step)

    def on_end(step: StepResult) -> None:
        if isinstance(progress, StepProgress):
            progress.step_ended(step)
        if also is not None and also.on_step_end is not None:
            also.on_step_end(step)

    return StepHooks(on_step_start=on_start, on_step_end=on_end)


def restore_test_failure(result: RestoreTestResult) -> RestoreTestFailed | None:
    """The error (exit code 32) for a test that did not pass; None when it passed."""
    if result.passed:
        return None
    failed = result.failed_step
    where = f"at {failed.name}: {failed.error}" if failed else "with problems"
    return RestoreTestFailed(f"the restore test of {result.snapshot_id[:8]} failed {where}")
