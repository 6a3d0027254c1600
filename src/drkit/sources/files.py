"""Files and directories as a source, so one policy can mix files and databases.

A plain path under a policy's ``sources:`` is still the usual way to name
files (all of a policy's paths go into one snapshot); ``type: files`` makes a
separate snapshot of its own paths, with its own excludes:

```yaml
sources:
  - /etc/app
  - {type: files, paths: [/srv/uploads], excludes: ["*.tmp"]}
  - {type: postgres, dsn: "postgresql://backup@db1/app"}
```

It is the file :class:`~drkit.repository.archiver.Archiver` and
:class:`~drkit.repository.restorer.Restorer` behind the Source interface;
the metadata cache applies as it does for ``drkit backup``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from drkit.errors import IncompleteError
from drkit.plugins import Plugin
from drkit.repository.targets import normalise_targets
from drkit.sources.base import (
    META_TYPE,
    BackupRequest,
    RestoreRequest,
    RestoreResult,
    Source,
    SourceConfig,
    local_path,
)
from drkit.sources.errors import TargetNotEmpty

if TYPE_CHECKING:  # the archiver and restorer load when files are backed up or restored
    from drkit.repository.snapshot import Snapshot


class FilesConfig(SourceConfig):
    """Files and directories, backed up into a snapshot of their own."""

    type: Literal["files"] = "files"
    paths: list[str] = Field(min_length=1, description="Files and directories to back up.")
    excludes: list[str] = Field(default_factory=list, description="Globs to leave out.")
    one_file_system: bool = Field(default=False, description="Do not cross mount points.")

    def describe(self) -> str:
        return f"files {', '.join(self.paths)}"


class FilesSource(Source[FilesConfig]):
    type = "files"

    @property
    def paths(self) -> list[str]:
        return normalise_targets(self.config.paths)

    def backup(self, request: BackupRequest) -> list[Snapshot]:
        from drkit.repository.archiver import Archiver, BackupOptions
        from drkit.repository.fanout import Destination
        from drkit.repository.filecache import FileCache
        from drkit.repository.writer import BlobWriter

        """One file snapshot per repository; paths that could not be read are in its errors."""
        targets = self.paths
        options = BackupOptions(
            paths=targets,
            excludes=list(self.config.excludes),
            tags=request.tags,
            one_file_system=self.config.one_file_system,
        )
        if request.host:
            options.host = request.host
        destinations = [
            Destination(
                repo,
                BlobWriter(repo, request.compression, request.pack_size),
                FileCache.for_backup(repo.config.id, targets),
            )
            for repo in request.repos
        ]
        parents = self.parents(request.repos, options.host)
        return Archiver(destinations, options, request.progress).run(parents)

    @classmethod
    def restore(cls, request: RestoreRequest) -> RestoreResult:
        """Restore every file of the snapshot under the target directory."""
        target = str(local_path(request.target, "file"))
        existed = os.path.isdir(target)
        if existed and os.listdir(target) and not request.force:
            raise TargetNotEmpty(
                f"the directory {target} is not empty",
                hint="restore into an empty directory, or pass --force to write over it",
            )
        from drkit.repository.restorer import Restorer

        result = Restorer(request.repo, request.snapshot, target, progress=request.progress).run()
        if result.failed:
            first = sorted(result.failed.items())[0]
            raise IncompleteError(
                f"{len(result.failed)} path(s) could not be restored, e.g. {first[0]}: {first[1]}",
                hint="`drkit check --read-data` shows what is damaged in the repository",
            )
        return RestoreResult(target, result.bytes, not existed)


def is_files_snapshot(snapshot: Snapshot) -> bool:
    """File snapshots carry no source type (made by `drkit backup` or this source)."""
    return snapshot.meta.get(META_TYPE, "files") == "files"


PLUGIN = Plugin("files", FilesConfig, FilesSource)
