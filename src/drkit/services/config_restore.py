"""Bringing configuration back as at a time: preview, confirmation, restore, in one operation.

:func:`restore_config` is ``drkit config restore`` for every face. It can
first rebuild the history from a repository (a lost catalog), plans the
restore of each file named (default: drkit.yaml), shows the plan through
the face's :class:`Review` and, when there is something to change and the
face confirms, applies it under a ``config-restore`` run (each file's state
before the restore is kept as a version of its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from drkit.services.progress import SILENT, Progress

if TYPE_CHECKING:  # the domain (SQLAlchemy, paramiko) is imported when the operation runs
    from drkit.catalog.runs import RunJournal
    from drkit.confighistory.collect.hosts import HostPool
    from drkit.confighistory.restore import RestoredItem, RestorePlan
    from drkit.confighistory.service import History
    from drkit.services.workspace import Workspace


@dataclass(frozen=True)
class ConfigRestoreSpec:
    """Which files (drkit, /path globs, HOST:/path; none: drkit) as at which time."""

    at: datetime
    paths: list[str] = field(default_factory=list)
    dry_run: bool = False
    from_repository: str | None = None  # first rebuild the history from this repository
    snapshot: str = "latest"  # with from_repository: which push
    restore_mode: bool = False  # also bring back each file's mode
    author: str | None = None  # default: the OS user


@dataclass(frozen=True)
class ConfigRestorePreview:
    """What the face shows before asking: the versions imported, and the plan."""

    plan: RestorePlan
    imported: int | None = None  # versions imported from ``from_repository``
    from_repository: str | None = None


class Review(Protocol):
    """How the face takes part: it shows the preview and confirms (or declines by raising)."""

    def show(self, preview: ConfigRestorePreview) -> None:
        """The plan is ready (called always, dry run included)."""

    def confirm(self, plan: RestorePlan) -> bool:
        """Whether to apply ``plan`` (called only when it changes something and is no dry run)."""


@dataclass(frozen=True)
class ConfigRestoreResult:
    """The plan, whether it was applied, and each file restored."""

    plan: RestorePlan
    applied: bool
    restored: list[RestoredItem]
    imported: int | None = None

    def to_json(self) -> dict[str, Any]:
        from drkit.confighistory import views

        return views.restore_doc(self.plan, self.restored, applied=self.applied)


@contextmanager
def open_history(workspace: Workspace) -> Iterator[History]:
    """The configuration history of this installation.

    A drkit.yaml that is named (--config, DRKIT_CONFIG) but missing is one to
    rebuild: drkit runs on its defaults and a restore writes the file there.
    """
    from drkit.confighistory.service import History
    from drkit.settings.model import Settings

    path = workspace.settings_file
    if path is not None and not path.exists():
        workspace.use_settings(Settings())
    yield History(workspace.catalog(), workspace.settings, path, workspace.home)


def restore_config(
    workspace: Workspace,
    spec: ConfigRestoreSpec,
    review: Review,
    progress: Progress = SILENT,
    journal: RunJournal | None = None,
) -> ConfigRestoreResult:
    """Plan, show, confirm and apply the restore of ``spec`` (into ``journal``, a run the
    caller recorded and finishes, when given)."""
    from drkit.confighistory.collect.hosts import HostPool
    from drkit.confighistory.mirror import import_history
    from drkit.confighistory.model import Scope
    from drkit.confighistory.restore import plan_restore

    with open_history(workspace) as history:
        imported = None
        if spec.from_repository:
            progress.phase(f"import from {spec.from_repository}")
            repo = workspace.open_ref(spec.from_repository)
            imported = import_history(history.store, repo, spec.snapshot)
        scopes = history.select(spec.paths) if spec.paths else [Scope.drkit()]
        with HostPool(history.config.inventory) as hosts:
            progress.phase("plan")
            plan = plan_restore(history, hosts, scopes, spec.at)
            review.show(ConfigRestorePreview(plan, imported, spec.from_repository))
            go = bool(plan.changes) and not spec.dry_run and review.confirm(plan)
            if go:
                progress.phase("restore")
            done = _apply(history, hosts, plan, spec, journal) if go else []
    return ConfigRestoreResult(plan, go, done, imported)


def _apply(
    history: History,
    hosts: HostPool,
    plan: RestorePlan,
    spec: ConfigRestoreSpec,
    journal: RunJournal | None,
) -> list[RestoredItem]:
    from drkit.catalog.runs import RunStatus
    from drkit.confighistory.jobs import owned_run
    from drkit.confighistory.restore import apply_restore
    from drkit.confighistory.service import default_author

    author = spec.author or default_author()
    if journal is not None:
        return apply_restore(
            history, hosts, plan, author=author, journal=journal, restore_mode=spec.restore_mode
        )
    subject = ",".join(i.scope.display for i in plan.changes)[:200]
    with owned_run(history.catalog, kind="config-restore", subject=subject) as (own_run, own):
        done = apply_restore(
            history, hosts, plan, author=author, journal=own_run, restore_mode=spec.restore_mode
        )
        if own:
            own_run.finish(RunStatus.SUCCEEDED, result={"restored": [d.target for d in done]})
    return done
