"""SQLite backups with the online backup API: consistent while the database is written.

How, and why this way. SQLite's backup API copies a database page by page
from inside one read transaction, so the copy is one committed state even
while other connections keep writing (in WAL mode they go on; in rollback
mode they wait for the copy). The API writes into another *database*, not
into a stream, so drkit copies into a file in a private temporary folder
(mode 0700; ``temp_dir`` chooses where) and streams that file into the
repository, then deletes it. Streaming pages straight from the live file
would need the ``sqlite_dbpage`` table (absent from Debian's SQLite build)
or reading the raw file, which is only consistent in rollback mode; so the
temporary copy, whose size is the database's, is the price of consistency.

Restore writes the stored file next to the target under a temporary name,
checks it with ``PRAGMA quick_check``, then renames it into place (removing
any ``-wal``/``-shm`` files of a database it replaces, which would otherwise
be applied to the restored one).

```yaml
sources:
  - {type: sqlite, path: /var/lib/app/app.db}
```
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing as _closing
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from drkit.errors import UsageError
from drkit.plugins import Plugin
from drkit.sources.base import (
    RestoreRequest,
    RestoreResult,
    SourceConfig,
    StreamSource,
    counted,
    local_path,
    main_stream,
)
from drkit.sources.errors import DumpFailed, RestoreFailed, SourceUnavailable, TargetNotEmpty

if TYPE_CHECKING:  # the repository's stream code loads when a dump runs
    from drkit.repository.stream import StreamArchiver

BLOCK = 1024 * 1024


class SqliteConfig(SourceConfig):
    """One SQLite database file."""

    type: Literal["sqlite"] = "sqlite"
    path: Path = Field(description="The database file.")
    temp_dir: Path | None = Field(
        default=None, description="Where the consistent copy is made (default: the system's)."
    )

    @classmethod
    def from_url(cls, url: str) -> SqliteConfig:
        """``sqlite:///abs/path.db`` or ``sqlite:relative.db``."""
        return cls(path=Path(url.removeprefix("sqlite:").removeprefix("//")))

    @property
    def file(self) -> Path:
        return self.path.expanduser().absolute()

    def describe(self) -> str:
        return f"sqlite {self.file}"


class SqliteSource(StreamSource[SqliteConfig]):
    type = "sqlite"

    @property
    def root(self) -> str:
        return f"/sqlite{self.config.file}"

    def _connect(self) -> sqlite3.Connection:
        # mode=rw: never create a database where there was none
        try:
            conn = sqlite3.connect(f"file:{self.config.file}?mode=rw", uri=True, timeout=60)
            conn.execute("select count(*) from sqlite_schema").fetchone()
        except sqlite3.Error as exc:
            raise SourceUnavailable(
                f"cannot open the SQLite database {self.config.file}: {exc}"
            ) from None
        return conn

    def probe(self) -> dict[str, str]:
        with _closing(self._connect()) as conn:
            mode = conn.execute("pragma journal_mode").fetchone()[0]
            pages = conn.execute("pragma page_count").fetchone()[0]
            page_size = conn.execute("pragma page_size").fetchone()[0]
        return {
            "sqlite.path": str(self.config.file),
            "sqlite.journal_mode": str(mode),
            "sqlite.size": str(pages * page_size),
            "sqlite.library_version": sqlite3.sqlite_version,
        }

    def dump(self, archiver: StreamArchiver) -> str:
        path = f"{self.root}/{self.config.file.name}"
        work = Path(tempfile.mkdtemp(prefix="drkit-sqlite-", dir=self.config.temp_dir))
        try:
            copy = work / "copy.db"
            self._copy_to(copy)
            archiver.add(path, _read_blocks(copy))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return path

    def _copy_to(self, copy: Path) -> None:
        """One consistent copy of the live database (one read transaction)."""
        source = self._connect()
        try:
            with _closing(sqlite3.connect(copy)) as target:
                source.backup(target)  # pages=-1: all pages in one step, one snapshot
        except sqlite3.Error as exc:
            raise DumpFailed(f"the SQLite backup of {self.config.file} failed: {exc}") from None
        finally:
            source.close()

    @classmethod
    def restore(cls, request: RestoreRequest) -> RestoreResult:
        from drkit.repository.stream import find_stream, open_stream

        target = local_path(request.target, "sqlite")
        existed = _check_target(target, request.force)
        stream = main_stream(request.snapshot)
        size = find_stream(request.repo, request.snapshot, stream).size
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.drkit-", dir=target.parent)
        staged = Path(name)
        try:
            blocks = open_stream(request.repo, request.snapshot, stream)
            _write_file(fd, counted(blocks, request.progress, size))
            _verify(staged)
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            os.replace(staged, target)
        finally:
            staged.unlink(missing_ok=True)
        _fsync_dir(target.parent)
        return RestoreResult(str(target), size, not existed)


def _check_target(target: Path, force: bool) -> bool:
    """Whether the target exists; refuse a non-empty one unless forced."""
    if target.is_dir():
        raise UsageError(f"{target} is a directory", hint="name the database file to restore into")
    if not target.exists():
        return False
    if target.stat().st_size > 0 and not force:
        raise TargetNotEmpty(
            f"{target} already exists and is not empty",
            hint="restore to a new file name, or pass --force to replace it",
        )
    return True


def _verify(path: Path) -> None:
    try:
        with _closing(sqlite3.connect(path)) as conn:
            result = conn.execute("pragma quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        result = str(exc)
    if result != "ok":
        raise RestoreFailed(f"the restored SQLite database fails its check: {result}")


def _write_file(fd: int, blocks: Iterator[bytes]) -> None:
    with os.fdopen(fd, "wb") as fh:
        for block in blocks:
            fh.write(block)
        fh.flush()
        os.fsync(fh.fileno())


def _read_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            yield block


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


PLUGIN = Plugin("sqlite", SqliteConfig, SqliteSource, schemes=("sqlite",))
