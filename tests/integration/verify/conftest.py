"""Helpers for the verification tests: a backed-up sample tree, and damaging it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drkit.repository.repo import Repository
from drkit.repository.tree import Node
from drkit.storage.local import LocalBackend
from tests.conftest import Result, Runner

RANDOM_BIN = "data/random.bin"


@dataclass
class Backup:
    """A repository holding one snapshot of ``src``."""

    repo_dir: Path
    src: Path
    snapshot: str
    password: str

    def open(self) -> Repository:
        repo = Repository.open(LocalBackend(self.repo_dir), self.password)
        repo.load_index()
        return repo

    def path_of(self, rel: str) -> str:
        """The path a file of ``src`` has inside the snapshot (and under the restore dir)."""
        return f"{self.src}/{rel}"

    def node(self, rel: str) -> Node:
        repo = self.open()
        wanted = self.path_of(rel)
        for path, node in repo.walk(repo.load_snapshot(self.snapshot).tree):
            if path == wanted:
                return node
        raise AssertionError(f"{wanted} is not in snapshot {self.snapshot}")

    def damage_blob(self, blob_id: bytes) -> str:
        """Flip a byte in the middle of a blob's stored bytes; return its pack."""
        loc = self.open().lookup(blob_id)
        path = self.repo_dir / "data" / loc.pack[:2] / loc.pack
        data = bytearray(path.read_bytes())
        data[loc.offset + loc.length // 2] ^= 0x40
        path.write_bytes(bytes(data))
        return loc.pack


@pytest.fixture
def backup(
    initialized: Runner, sample_tree: Path, repo_dir: Path, drkit_env: dict[str, str]
) -> Backup:
    done = initialized("backup", "--json", str(sample_tree)).check()
    snap = json.loads(done.stdout)["snapshot"]
    return Backup(repo_dir, sample_tree, snap, drkit_env["DRKIT_PASSWORD"])


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    root = tmp_path / "scratch"
    root.mkdir()
    return root


def as_json(done: Result) -> Any:
    try:
        return json.loads(done.stdout)
    except ValueError as exc:
        raise AssertionError(f"not JSON:\n{done.stdout}\nstderr:\n{done.stderr}") from exc


def text(done: Result) -> str:
    return done.stdout + done.stderr
