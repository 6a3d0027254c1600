"""A workspace over one local repository holding one snapshot of a small tree, for services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drkit.repository.repo import Repository
from drkit.services import Workspace
from drkit.storage import open_backend

PASSWORD = "secret"


@dataclass(frozen=True)
class Filled:
    workspace: Workspace
    repo_dir: Path
    src: Path
    snapshot: str

    def open(self) -> Repository:
        repo = Repository.open(open_backend(str(self.repo_dir)), PASSWORD)
        repo.load_index()
        return repo


class Recorder:
    """A Progress that keeps what it heard."""

    def __init__(self) -> None:
        self.phases: list[str] = []
        self.done: list[int] = []
        self.warnings: list[str] = []

    def phase(self, name: str) -> None:
        self.phases.append(name)

    def advance(self, done: int, total: int | None = None) -> None:
        self.done.append(done)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
