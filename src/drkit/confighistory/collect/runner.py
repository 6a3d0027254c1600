"""One collection: read every source's files, store those whose content changed.

A host that cannot be reached or a file that cannot be read is a failure
named by host and path; the other sources and files are still collected, and
the failures are reported together at the end (the command then exits
non-zero and the daemon raises an alert).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drkit.confighistory.collect.hosts import HostPool
from drkit.confighistory.compare import digest
from drkit.confighistory.errors import SourceAccessError
from drkit.confighistory.globbing import has_magic
from drkit.confighistory.model import Scope
from drkit.confighistory.service import History
from drkit.confighistory.store import NewVersion
from drkit.settings.confighistory import SourceSettings


class FileStatus(StrEnum):
    NEW = "new"  # first version of this file
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class CollectedFile:
    source: str
    scope: Scope
    status: FileStatus
    version: int | None  # the version stored, None when unchanged
    size: int


@dataclass(frozen=True)
class CollectFailure:
    source: str
    host: str
    path: str
    error: str

    @property
    def where(self) -> str:
        return f"{self.host}:{self.path}" if self.path else self.host


@dataclass(frozen=True)
class SourceReport:
    source: str
    files: tuple[CollectedFile, ...]
    failures: tuple[CollectFailure, ...]


def collect_source(
    history: History, hosts: HostPool, source: SourceSettings, *, author: str
) -> SourceReport:
    """Read and record every file of ``source``."""
    files: list[CollectedFile] = []
    failures: list[CollectFailure] = []
    try:
        host = hosts.get(source.host)
        paths = [(p, path) for p in source.paths for path in host.expand(p)]
    except SourceAccessError as exc:
        failure = CollectFailure(source.name, exc.host, exc.path, exc.reason)
        return SourceReport(source.name, (), (failure,))
    for pattern, path in paths:
        try:
            found = _collect_file(history, hosts, source, path, author=author)
        except SourceAccessError as exc:
            failures.append(CollectFailure(source.name, exc.host, exc.path, exc.reason))
            continue
        if found is not None:
            files.append(found)
        elif not has_magic(pattern):
            failures.append(CollectFailure(source.name, source.host, path, "does not exist"))
    return SourceReport(source.name, tuple(files), tuple(failures))


def _collect_file(
    history: History, hosts: HostPool, source: SourceSettings, path: str, *, author: str
) -> CollectedFile | None:
    data = hosts.get(source.host).read(path, source.max_file_size)
    if data is None:
        return None
    scope = Scope.file(source.host, path)
    known = history.store.head_hash(scope) is not None
    new = NewVersion(
        scope,
        data.content,
        digest(scope, history.rules(scope), data.content),
        author,
        f"collected by source {source.name}",
        data.mode,
    )
    version = history.store.record(new)
    if version is None:
        return CollectedFile(source.name, scope, FileStatus.UNCHANGED, None, len(data.content))
    status = FileStatus.CHANGED if known else FileStatus.NEW
    return CollectedFile(source.name, scope, status, version.id, len(data.content))
