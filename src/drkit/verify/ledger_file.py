"""A :class:`~drkit.verify.subset.PackCheckLedger` in JSON files, for the CLI without a catalog.

One file per repository id, ``<dir>/pack-reads-<repository id>.json``::

    {"version": 1, "repository_id": "...", "packs": {"<pack name>": "<ISO time>", ...}}

The directory is ``$DRKIT_HOME/verify`` by default. A file is replaced
atomically (written beside it, flushed to disk, renamed over it), so a crash
leaves the old or the new ledger, never half of one; two processes recording
at once are serialised by an advisory lock, so neither loses the other's reads.
Losing the file loses nothing but time: the rotation reads the packs again.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from drkit.verify.errors import LedgerError
from drkit.verify.subset import PackCheckResult

LEDGER_VERSION = 1


class FilePackCheckLedger:
    """Last good reads per repository id, one JSON file each under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def in_home(cls, home: Path) -> FilePackCheckLedger:
        return cls(home / "verify")

    def path(self, repository_id: str) -> Path:
        return self.directory / f"pack-reads-{repository_id}.json"

    def last_checked(self, repository_id: str) -> Mapping[str, datetime]:
        return self._read(repository_id)

    def record(self, repository_id: str, results: Sequence[PackCheckResult]) -> None:
        with self._locked():
            reads = self._read(repository_id)
            for r in results:
                if r.ok:
                    reads[r.name] = max(r.checked_at, reads.get(r.name, r.checked_at))
            self._write(repository_id, reads)

    # -- files ------------------------------------------------------------------------
    def _read(self, repository_id: str) -> dict[str, datetime]:
        path = self.path(repository_id)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise LedgerError(f"cannot read the pack-check ledger {path}: {exc}") from exc
        if doc.get("version") != LEDGER_VERSION or doc.get("repository_id") != repository_id:
            raise LedgerError(f"{path} is not a version {LEDGER_VERSION} ledger of this repository")
        try:
            return {name: datetime.fromisoformat(t) for name, t in doc["packs"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise LedgerError(f"the pack-check ledger {path} is damaged: {exc!r}") from exc

    def _write(self, repository_id: str, reads: Mapping[str, datetime]) -> None:
        path = self.path(repository_id)
        doc = {
            "version": LEDGER_VERSION,
            "repository_id": repository_id,
            "packs": {name: t.isoformat() for name, t in sorted(reads.items())},
        }
        try:
            _replace_atomically(path, json.dumps(doc, indent=1).encode())
        except OSError as exc:
            raise LedgerError(f"cannot write the pack-check ledger {path}: {exc}") from exc

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LedgerError(f"cannot use the ledger directory {self.directory}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _replace_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)
