"""The Source interface: what a protected thing must do to be backed up and restored.

A source driver is one module holding a typed, frozen config model (the
mapping under a policy's ``sources:`` in drkit.yaml, selected by ``type:``)
and a :class:`Source` subclass, and declares both with ``PLUGIN =
drkit.plugins.Plugin(type, config, source class, schemes=...)``; the
registry (registry.py) lists the declarations.

Contracts
---------
* :meth:`Source.backup` makes **one snapshot per repository** of the request,
  all with the same id and time, tagged as asked, whose ``paths`` is
  ``source.paths`` and whose ``meta`` holds ``source.type`` plus the
  driver's own keys. It records a snapshot only if the whole source was read
  without error: a source that cannot be reached raises
  :class:`~drkit.sources.errors.SourceUnavailable` before anything is
  written; a dump that fails part-way raises
  :class:`~drkit.sources.errors.DumpFailed` and saves nothing.
* :meth:`Source.restore` (a class method: it needs the snapshot and a
  target, not the original source's settings) brings a snapshot made by this
  driver back into ``target``. It must refuse a target that already holds
  data with :class:`~drkit.sources.errors.TargetNotEmpty` unless ``force``,
  create the target when it is missing (a database, a directory), and never
  leave a half-written target looking complete when the restore tool fails.

Stream sources (databases) implement :class:`StreamSource`: ``probe`` checks
the source is reachable and returns facts for ``meta``; ``dump`` adds the
streams. The template :meth:`StreamSource.backup` does the rest.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from drkit.errors import UsageError
from drkit.plugins import PluginSettings
from drkit.repository.pack_size import DEFAULT_PACK_SIZE
from drkit.repository.progress import Progress

if TYPE_CHECKING:  # the repository's code loads when a source backs up or restores, not when
    # drkit.yaml names one (every command that reads drkit.yaml imports the drivers)
    from drkit.repository.compression import Compression
    from drkit.repository.repo import Repository
    from drkit.repository.snapshot import Snapshot
    from drkit.repository.stream import StreamArchiver

META_TYPE = "source.type"
META_STREAM = "source.stream"  # the path of the main stream inside the snapshot


class SourceConfig(PluginSettings):
    """Settings common to every source; each driver adds its own fields."""

    @classmethod
    def from_url(cls, url: str) -> SourceConfig:
        """The settings a URL names (drivers whose PLUGIN declares ``schemes``)."""
        raise UsageError(f"a {cls.__name__} is not given as a URL", hint=url)

    def describe(self) -> str:
        """A short label for messages: no password, ever."""
        return self.type

    def __str__(self) -> str:
        # code that shows a policy's sources with str() must never print a password
        return self.describe()


C = TypeVar("C", bound=SourceConfig)


@dataclass
class BackupRequest:
    """Where and how to store one backup of a source."""

    repos: list[Repository]
    tags: list[str] = field(default_factory=list)
    host: str | None = None
    progress: Progress = field(default_factory=Progress)
    compression: Compression | None = None
    pack_size: int = DEFAULT_PACK_SIZE


@dataclass
class RestoreRequest:
    """One snapshot of a source to bring back into ``target`` (a DSN, a path, a folder)."""

    repo: Repository
    snapshot: Snapshot
    target: str
    force: bool = False
    progress: Progress = field(default_factory=Progress)
    scratch: bool = False  # into a throw-away server (restore tests): skip owners and grants


@dataclass(frozen=True)
class RestoreResult:
    target: str  # as shown to the user (no password)
    bytes: int
    created: bool  # the target database or folder did not exist before
    notes: tuple[str, ...] = ()  # what to do next, e.g. how to start the server


class Source(ABC, Generic[C]):
    """A protected thing: back it up into repositories, restore a snapshot of it."""

    type: ClassVar[str]

    def __init__(self, config: C) -> None:
        self.config = config

    @property
    @abstractmethod
    def paths(self) -> list[str]:
        """The absolute paths this source's snapshots record (how its snapshots are found)."""

    @abstractmethod
    def backup(self, request: BackupRequest) -> list[Snapshot]:
        """One snapshot per repository of the request (see the module's contracts)."""

    @classmethod
    @abstractmethod
    def restore(cls, request: RestoreRequest) -> RestoreResult:
        """Bring ``request.snapshot`` back into ``request.target``."""

    def parents(self, repos: list[Repository], host: str | None) -> list[Snapshot | None]:
        """Per repository, the newest earlier snapshot of this source from ``host``."""
        return [latest_snapshot(repo, self.paths, host) for repo in repos]


class StreamSource(Source[C]):
    """A source read as byte streams (a dump): probe, then dump into a StreamArchiver."""

    @property
    @abstractmethod
    def root(self) -> str:
        """The folder of the snapshot holding this source's streams; its one recorded path."""

    @property
    def paths(self) -> list[str]:
        return [self.root]

    @abstractmethod
    def probe(self) -> dict[str, str]:
        """Connect (raising SourceUnavailable if that fails); facts for the snapshot's meta."""

    @abstractmethod
    def dump(self, archiver: StreamArchiver) -> str:
        """Add the source's streams under :attr:`root`; return the main stream's path.

        The streams' iterators raise DumpFailed when the dump ends badly.
        """

    def backup(self, request: BackupRequest) -> list[Snapshot]:
        from drkit.repository.fanout import Destination
        from drkit.repository.filecache import FileCache
        from drkit.repository.stream import StreamArchiver
        from drkit.repository.writer import BlobWriter

        meta = {META_TYPE: self.type, **self.probe()}
        host = request.host or socket.gethostname()
        destinations = [
            Destination(
                repo, BlobWriter(repo, request.compression, request.pack_size), FileCache(None)
            )
            for repo in request.repos
        ]
        parents = self.parents(request.repos, host)
        with StreamArchiver(
            destinations,
            paths=self.paths,
            tags=request.tags,
            host=host,
            meta=meta,
            progress=request.progress,
        ) as archiver:
            archiver.meta[META_STREAM] = self.dump(archiver)
            return archiver.commit(parents)


def latest_snapshot(repo: Repository, paths: list[str], host: str | None) -> Snapshot | None:
    same = [
        s
        for s in repo.snapshots(on_damaged=lambda *_: None)
        if s.paths == paths and (host is None or s.hostname == host)
    ]
    return same[-1] if same else None


def main_stream(snapshot: Snapshot) -> str:
    """The path of the snapshot's main stream, as its source recorded it."""
    path = snapshot.meta.get(META_STREAM)
    if not path:
        raise UsageError(
            f"snapshot {snapshot.short_id} does not name its stream",
            hint="it was not made by `drkit db backup`; restore its files with `drkit restore`",
        )
    return path


def local_path(target: str, scheme: str | None = None) -> Path:
    """A restore target that must be on this machine: a path, or ``scheme:PATH``.

    A URL of any other kind is refused, so that a database URL given for the
    wrong snapshot never becomes a strangely named local folder.
    """
    if scheme and target.startswith(f"{scheme}:"):
        target = target.removeprefix(f"{scheme}:").removeprefix("//")
    elif "://" in target:
        raise UsageError(
            f"{target} is not a local path",
            hint="this snapshot restores into a file or folder; check the snapshot and --to",
        )
    return Path(target).expanduser().absolute()


def counted(blocks: Iterable[bytes], progress: Progress, total: int) -> Iterator[bytes]:
    """Pass ``blocks`` through, advancing ``progress`` (a restore's bytes and throughput)."""
    progress.start("restore")
    progress.set_total(1, total)
    for block in blocks:
        progress.advance(nbytes=len(block))
        yield block
    progress.advance(files=1)
    progress.finish()
