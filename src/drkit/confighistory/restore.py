"""Point-in-time restore: bring drkit's configuration or collected files back as at a time.

:func:`plan_restore` finds, for each scope, the version in force at the
time and diffs the current state against it (redacted, for the preview).
:func:`apply_restore` then, per scope that differs: stores the current state
as a safety version, writes the old content atomically (a temporary file,
fsync, rename; over SFTP for remote hosts), and records the result as a new
version, so the history shows the restore and it can itself be undone.
For drkit's own configuration it writes drkit.yaml and the runbook files
and replaces the users and their grants in one catalog transaction.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from drkit.catalog.runs import RunJournal
from drkit.confighistory.collect.hosts import HostPool
from drkit.confighistory.collect.local import LocalHost
from drkit.confighistory.compare import Side, digest, text_diff
from drkit.confighistory.diff import TextDiff
from drkit.confighistory.drkit_state import SETTINGS_NAME, DrkitState, runbooks_dir, target_of
from drkit.confighistory.errors import RestoreFailed, SourceAccessError
from drkit.confighistory.model import ConfigVersion, Scope
from drkit.confighistory.rules import source_for
from drkit.confighistory.service import History
from drkit.confighistory.store import NewVersion
from drkit.errors import ConfigError
from drkit.settings.loader import load_settings
from drkit.settings.model import Settings
from drkit.users.store import replace_all

READ_LIMIT = 64 * 1024 * 1024  # the current file, read for its safety version


class ItemStatus(StrEnum):
    CHANGE = "change"
    UNCHANGED = "unchanged"
    NO_VERSION = "no-version"  # the scope had no version yet at that time


@dataclass(frozen=True)
class RestoreItem:
    scope: Scope
    status: ItemStatus
    target: ConfigVersion | None
    diff: TextDiff | None  # from now to the target, redacted
    content: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RestorePlan:
    at: datetime
    items: tuple[RestoreItem, ...]

    @property
    def changes(self) -> list[RestoreItem]:
        return [item for item in self.items if item.status is ItemStatus.CHANGE]


@dataclass(frozen=True)
class RestoredItem:
    scope: Scope
    target: int  # the version brought back
    safety: int | None  # the version holding the state before (None: the file was gone)
    restored: int | None  # the new version recording the restore


def plan_restore(
    history: History, hosts: HostPool, scopes: list[Scope], at: datetime
) -> RestorePlan:
    return RestorePlan(at, tuple(_plan_item(history, hosts, scope, at) for scope in scopes))


def _plan_item(history: History, hosts: HostPool, scope: Scope, at: datetime) -> RestoreItem:
    target = history.store.at(scope, at)
    if target is None:
        return RestoreItem(scope, ItemStatus.NO_VERSION, None, None)
    content = history.store.content(target)
    current = _current(history, hosts, scope)
    rules = history.rules(scope)
    if current is not None and digest(scope, rules, current) == digest(scope, rules, content):
        return RestoreItem(scope, ItemStatus.UNCHANGED, target, None)
    if scope.is_drkit:
        _loadable(DrkitState.from_content(content), target)
    diff = text_diff(
        Side(scope, rules, current, f"{scope.display} (now)"),
        Side(scope, rules, content, target.label),
    )
    return RestoreItem(scope, ItemStatus.CHANGE, target, diff, content)


def _current(history: History, hosts: HostPool, scope: Scope) -> bytes | None:
    if scope.is_drkit:
        with history.catalog.session() as s:
            return history.live_drkit(s).to_content()
    data = hosts.get(scope.host).read(scope.path, _limit(history, scope))
    return data.content if data is not None else None


def _limit(history: History, scope: Scope) -> int:
    source = source_for(scope, history.config)
    return max(source.max_file_size, READ_LIMIT) if source else READ_LIMIT


def _loadable(state: DrkitState, target: ConfigVersion) -> Settings | None:
    """The settings of the version's drkit.yaml; RestoreFailed if this drkit cannot load it."""
    if state.settings_text is None:
        return None
    with tempfile.TemporaryDirectory(prefix="drkit-restore-") as folder:
        path = Path(folder) / SETTINGS_NAME
        path.write_text(state.settings_text)
        try:
            return load_settings(path)
        except ConfigError as exc:
            first = exc.message.splitlines()[0].removeprefix(str(path))
            raise RestoreFailed(
                f"the drkit.yaml of version #{target.id} does not load in this drkit:{first}",
                hint="restore to another time, or see it with "
                f"`drkit config show {target.id}` and fix it by hand",
            ) from exc


# -- applying ------------------------------------------------------------------------------
def apply_restore(
    history: History,
    hosts: HostPool,
    plan: RestorePlan,
    *,
    author: str,
    journal: RunJournal | None = None,
    restore_mode: bool = False,
) -> list[RestoredItem]:
    """Write back each changed file; a file that exists keeps its current mode (a ``chmod``
    made since is a decision too) unless ``restore_mode`` asks for the version's."""
    done: list[RestoredItem] = []
    for item in plan.changes:
        if journal is None:
            done.append(_apply(history, hosts, item, plan.at, author, restore_mode))
            continue
        with journal.step(f"restore {item.scope.display}") as outcome:
            done.append(_apply(history, hosts, item, plan.at, author, restore_mode))
            outcome.details = {"target": done[-1].target, "safety": done[-1].safety}
    return done


@dataclass(frozen=True)
class _Change:
    """Who restores, and the messages of the safety and the result versions."""

    author: str
    safety: str
    result: str
    restore_mode: bool = False


def _apply(
    history: History,
    hosts: HostPool,
    item: RestoreItem,
    at: datetime,
    author: str,
    restore_mode: bool = False,
) -> RestoredItem:
    when = at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert item.target is not None
    change = _Change(
        author,
        f"safety copy before restoring to {when}",
        f"restored version #{item.target.id} (as at {when})",
        restore_mode,
    )
    if item.scope.is_drkit:
        return _apply_drkit(history, item, change)
    return _apply_file(history, hosts, item, change)


def _apply_file(
    history: History, hosts: HostPool, item: RestoreItem, change: _Change
) -> RestoredItem:
    assert item.target is not None and item.content is not None
    scope, mode = item.scope, item.target.mode
    host = hosts.get(scope.host)
    current = host.read(scope.path, _limit(history, scope))
    safety = None  # a file that is gone has no state to keep
    if current is not None and current.mode is not None and not change.restore_mode:
        mode = current.mode
    if current is not None:
        _record_file(history, scope, current.content, current.mode, change.author, change.safety)
        safety = history.store.newest(scope)
    try:
        host.write_atomic(scope.path, item.content, mode)
    except SourceAccessError as exc:
        raise RestoreFailed(
            f"{scope.display} could not be restored: {exc.reason}",
            hint="the file was not changed; check that drkit may write it there",
        ) from exc
    restored = _record_file(history, scope, item.content, mode, change.author, change.result)
    return _done(item, safety, restored)


def _record_file(
    history: History, scope: Scope, content: bytes, mode: int | None, author: str, message: str
) -> ConfigVersion | None:
    rules = history.rules(scope)
    new = NewVersion(scope, content, digest(scope, rules, content), author, message, mode)
    return history.store.record(new)


def _apply_drkit(history: History, item: RestoreItem, change: _Change) -> RestoredItem:
    assert item.target is not None and item.content is not None
    state = DrkitState.from_content(item.content)
    history.record_drkit(author=change.author, message=change.safety)
    safety = history.store.newest(item.scope)
    settings_path = history.settings_path or (
        Path(state.settings_path) if state.settings_path else history.home / SETTINGS_NAME
    )
    restored_settings = _loadable(state, item.target) or history.settings
    runbooks = runbooks_dir(restored_settings, settings_path, history.home)
    _write_drkit_files(state, settings_path, runbooks)
    after = History(history.catalog, restored_settings, settings_path, history.home)
    with history.catalog.session() as s:
        replace_all(s, state.users)
        restored = after.record_drkit(author=change.author, message=change.result, session=s)
    return _done(item, safety, restored)


def _done(
    item: RestoreItem, safety: ConfigVersion | None, restored: ConfigVersion | None
) -> RestoredItem:
    assert item.target is not None
    return RestoredItem(
        item.scope,
        item.target.id,
        safety.id if safety else None,
        restored.id if restored else None,
    )


def _write_drkit_files(state: DrkitState, settings_path: Path, runbooks: Path) -> None:
    """drkit.yaml and the runbook and extra files of the version, each written atomically."""
    local = LocalHost()
    writes = [(target_of(name, runbooks), text) for name, text in state.files]
    if state.settings_text is not None:
        writes.insert(0, (settings_path, state.settings_text))
    for path, text in writes:
        try:
            local.write_atomic(str(path), text.encode("utf-8", "surrogateescape"), None)
        except SourceAccessError as exc:
            raise RestoreFailed(
                f"drkit's configuration could not be restored: {exc.message}",
                hint="the users were not changed; files written before this one are restored "
                "and the safety version holds the state before",
            ) from exc
