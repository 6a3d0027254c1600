"""Backing up: paths into one repository, or a policy's sources into each of its repositories.

:func:`backup` is ``drkit backup`` for every face. The files of the request
are read once and stored in every repository (the fan-out); each database
source of a policy then makes snapshots of its own, one per repository, and
one failing does not stop the others. The operation takes the shared locks
itself and returns a :class:`BackupResult`; deciding what a failure means
(an exit code, an alert) is the face's.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from drkit.errors import DrkitError, IncompleteError, UsageError
from drkit.policy.membership import policy_tag
from drkit.repository.archiver import Archiver, BackupOptions, normalise_targets
from drkit.repository.compression import Compression
from drkit.repository.fanout import Destination
from drkit.repository.filecache import FileCache
from drkit.repository.locks import RepoLock
from drkit.repository.writer import DEFAULT_PACK_SIZE, BlobWriter
from drkit.services.progress import SILENT, Counter, Progress

if TYPE_CHECKING:
    from drkit.repository.repo import Repository
    from drkit.repository.snapshot import Snapshot
    from drkit.services.workspace import Workspace
    from drkit.settings.model import BackupSettings
    from drkit.settings.policies import PolicySettings, PolicySource
    from drkit.sources.base import SourceConfig


@dataclass(frozen=True)
class BackupSpec:
    """What to back up: ``paths``, or (with ``policy``) the policy's sources and ``paths``."""

    paths: list[str] = field(default_factory=list)
    policy: str | None = None
    excludes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    host: str | None = None
    one_file_system: bool = False
    compression: str | None = None  # off, auto, max or zstd:N; None: drkit.yaml's
    wait_lock: float = 0.0
    source: str | None = None  # with ``policy``: only this source (its label or entry)


@dataclass(frozen=True)
class FileBackup:
    """The files of one backup: the same snapshot saved in each repository, in order."""

    repositories: list[str]
    snapshots: list[Snapshot]

    @property
    def snapshot(self) -> Snapshot:
        return self.snapshots[0]

    def to_json(self) -> dict[str, Any]:
        snap = self.snapshot
        doc: dict[str, Any] = {
            "snapshot": snap.id,
            "short_id": snap.short_id,
            "time": snap.time.isoformat(),
            "paths": snap.paths,
            "summary": asdict(snap.summary),
            "errors": [asdict(e) for e in snap.errors],
        }
        if len(self.snapshots) > 1:
            doc["repositories"] = [
                {"name": n, "summary": asdict(x.summary)}
                for n, x in zip(self.repositories, self.snapshots, strict=True)
            ]
        return doc


@dataclass(frozen=True)
class SourceBackup:
    """One database source of a policy: its snapshot in each repository, or its failure."""

    source: str  # described, never with a password
    snapshots: list[Snapshot]
    seconds: float
    error: DrkitError | None = None

    @property
    def bytes_per_second(self) -> float:
        total = self.snapshots[0].summary.bytes_total if self.snapshots else 0
        return total / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        if self.error is not None:
            return {"source": self.source, "error": self.error.message}
        snap = self.snapshots[0]
        return {
            "snapshot": snap.id,
            "short_id": snap.short_id,
            "time": snap.time.isoformat(),
            "source": self.source,
            "paths": snap.paths,
            "meta": snap.meta,
            "bytes": snap.summary.bytes_total,
            "added": [x.summary.data_added for x in self.snapshots],
            "added_stored": [x.summary.data_added_stored for x in self.snapshots],
            "seconds": round(self.seconds, 3),
            "bytes_per_second": round(self.bytes_per_second),
        }


@dataclass(frozen=True)
class BackupResult:
    """What a backup saved: the files (None when there were none) and each database source."""

    files: FileBackup | None
    sources: list[SourceBackup] = field(default_factory=list)

    @property
    def failures(self) -> list[DrkitError]:
        return [s.error for s in self.sources if s.error is not None]

    @property
    def unread(self) -> int:
        """Paths the file backup could not read (the snapshot was saved without them)."""
        return len(self.files.snapshot.errors) if self.files is not None else 0

    def failure(self) -> DrkitError | None:
        """What fails this backup (a database source, files not read), as the CLI raises it."""
        if self.failures:
            return self.failures[0]
        if self.files is not None and self.unread:
            snap = self.files.snapshot
            return IncompleteError(
                f"snapshot {snap.short_id} was saved, but {self.unread} path(s) could not be read",
                hint="the paths are listed above and recorded in the snapshot",
            )
        return None

    def to_json(self) -> dict[str, Any]:
        doc = self.files.to_json() if self.files is not None else {}
        if self.sources:
            doc["databases"] = [s.to_json() for s in self.sources]
        return doc


def backup(workspace: Workspace, spec: BackupSpec, progress: Progress = SILENT) -> BackupResult:
    """Back up ``spec``: its files once into every repository, then each database source."""
    # Without a drkit.yaml the engine's defaults apply and the settings model is not loaded.
    cfg = workspace.settings.backup if workspace.settings_file else None
    paths, repo_names, typed = _what_and_where(workspace, spec)
    # checks they exist before touching a repository (a policy may hold only databases)
    targets = normalise_targets(paths) if paths or not typed else []
    options = _options(spec, cfg, targets)
    repos = (
        [workspace.open_ref(name) for name in repo_names]
        if spec.policy
        else [workspace.open_repo(load_index=False)]
    )
    files = None
    if targets:
        snaps = _backup_files(repos, options, cfg, spec, progress)
        files = FileBackup(repo_names, snaps)
    sources = [_backup_source(config, repos, options.tags, spec, cfg, progress) for config in typed]
    return BackupResult(files, sources)


def _what_and_where(
    workspace: Workspace, spec: BackupSpec
) -> tuple[list[str], list[str], list[SourceConfig]]:
    """The file paths, the repository names and the database sources of this backup."""
    if spec.policy is None:
        if spec.source is not None:
            raise UsageError("a source is one of a policy's", hint="pass --policy NAME too")
        if not spec.paths:
            raise UsageError("nothing to back up", hint="name paths, or --policy NAME")
        return spec.paths, [workspace.repo or os.environ.get("DRKIT_REPO", "")], []
    chosen = workspace.policy(spec.policy)
    # database sources load their drivers only for policies that have them: a plain
    # file backup stays as small as it was (its memory is compared with restic's)
    from drkit.sources.registry import policy_paths, policy_sources

    sources = chosen.sources if spec.source is None else [one_source(chosen, spec.source)]
    paths = [*policy_paths(sources), *spec.paths]
    return paths, list(chosen.repositories), policy_sources(sources)


def one_source(policy: PolicySettings, name: str) -> PolicySource:
    """The source of ``policy`` called ``name`` (its label, as its snapshots record it, or
    a plain path as drkit.yaml writes it); a usage error listing the labels otherwise."""
    from drkit.sources.registry import source_labels

    labels = source_labels(policy.sources)
    for source, label in zip(policy.sources, labels, strict=True):
        if name in (label, source if isinstance(source, str) else None):
            return source
    raise UsageError(
        f"the policy has no source {name!r}", hint=f"its sources: {', '.join(labels) or 'none'}"
    )


def _options(spec: BackupSpec, cfg: BackupSettings | None, targets: list[str]) -> BackupOptions:
    options = BackupOptions(
        paths=targets,
        excludes=[*(cfg.excludes if cfg else []), *spec.excludes],
        tags=[*spec.tags, *([policy_tag(spec.policy)] if spec.policy else [])],
        one_file_system=spec.one_file_system or bool(cfg and cfg.one_file_system),
    )
    if spec.host:
        options.host = spec.host
    return options


def _compression(spec: BackupSpec, cfg: BackupSettings | None) -> Compression:
    return Compression.parse(spec.compression or (cfg.compression if cfg else "auto"))


def _pack_size(cfg: BackupSettings | None) -> int:
    return cfg.pack_size_mib * 1024 * 1024 if cfg else DEFAULT_PACK_SIZE


def _backup_files(
    repos: list[Repository],
    options: BackupOptions,
    cfg: BackupSettings | None,
    spec: BackupSpec,
    progress: Progress,
) -> list[Snapshot]:
    setting, pack_size = _compression(spec, cfg), _pack_size(cfg)
    with ExitStack() as locks:
        for repo in repos:
            locks.enter_context(
                RepoLock(
                    repo, exclusive=False, operation="backup", wait=spec.wait_lock, load_index=True
                )
            )
        destinations = [
            Destination(
                repo,
                BlobWriter(repo, setting, pack_size=pack_size),
                FileCache.for_backup(repo.config.id, options.paths),
            )
            for repo in repos
        ]
        parents = [_parent(repo, options.paths, options.host) for repo in repos]
        return Archiver(destinations, options, Counter(progress)).run(parents)


def _parent(repo: Repository, paths: list[str], host: str) -> Snapshot | None:
    """The newest earlier snapshot of the same paths from the same host."""
    same = [
        s
        for s in repo.snapshots(on_damaged=lambda *_: None)
        if s.paths == paths and s.hostname == host
    ]
    return same[-1] if same else None


def _backup_source(
    config: SourceConfig,
    repos: list[Repository],
    tags: list[str],
    spec: BackupSpec,
    cfg: BackupSettings | None,
    progress: Progress,
) -> SourceBackup:
    """One database source into every repository; a failure is recorded, not raised."""
    from drkit.sources.base import BackupRequest
    from drkit.sources.registry import source_for
    from drkit.sources.run import backup_source

    started = time.monotonic()
    request = BackupRequest(
        repos,
        tags=tags,
        host=spec.host,
        progress=Counter(progress),
        compression=Compression.parse(cfg.compression if cfg else "auto"),
        pack_size=_pack_size(cfg),
    )
    try:
        snaps = backup_source(source_for(config), request, spec.wait_lock)
    except DrkitError as exc:
        return SourceBackup(config.describe(), [], time.monotonic() - started, exc)
    return SourceBackup(config.describe(), snaps, time.monotonic() - started)
