"""One runner class per backup tool: how to call drkit, restic and borg.

A runner only builds command lines (``Invocation``) and the environment; running and
measuring them is ``bench.measure``'s job. Every tool keeps its repository, cache and
config below its own work directory, so runs never touch the user's home directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

APT_INSTALL = (
    "apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends restic borgbackup"
)
BORG_COMPRESSION = "zstd,3"
BORG_ENCRYPTION = "repokey-blake2"
RESTIC_REPO_VERSION = "2"
VERSION_TIMEOUT_S = 30
# Inherited variables that could point a tool at another repository or configuration.
FOREIGN_SETTINGS = (
    "RESTIC_REPOSITORY",
    "RESTIC_REPOSITORY_FILE",
    "RESTIC_PASSWORD_FILE",
    "RESTIC_PASSWORD_COMMAND",
    "BORG_REPO",
    "BORG_PASSCOMMAND",
    "DRKIT_REPO",
    "DRKIT_CONFIG",
    "DRKIT_PASSWORD_FILE",
)
LIST_TIMEOUT_S = 600


@dataclass(frozen=True)
class Invocation:
    """A command line and the directory to run it in."""

    argv: list[str]
    cwd: Path


class ToolRunner(ABC):
    """Commands for one backup tool operating on one repository."""

    name: ClassVar[str]
    install_hint: ClassVar[str]
    password_env: ClassVar[str]

    def __init__(self, command: list[str], workdir: Path, password: str) -> None:
        self.command = command
        self.workdir = workdir
        self.repo = workdir / "repo"
        self.password = password
        self.last_snapshot_label: str | None = None

    # -- environment -------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Process environment: inherited, with caches and config isolated per tool."""
        env = dict(os.environ)
        for key in FOREIGN_SETTINGS:
            env.pop(key, None)
        env["XDG_CACHE_HOME"] = str(self.workdir / "cache")
        env["XDG_CONFIG_HOME"] = str(self.workdir / "config")
        env[self.password_env] = self.password
        env.update(self.extra_env())
        return env

    def extra_env(self) -> dict[str, str]:
        return {}

    def unavailable_reason(self) -> str | None:
        """Why the tool cannot run here, or None if its executable is found."""
        program = self.command[0]
        found = shutil.which(program) if os.sep not in program else program
        if found is None or not os.access(found, os.X_OK):
            return f"{self.name} executable not found ({program}); {self.install_hint}"
        return None

    def version(self) -> str:
        """First line of the tool's version output, or a note why there is none."""
        try:
            done = subprocess.run(
                [*self.command, *self.version_args()],
                capture_output=True,
                text=True,
                timeout=VERSION_TIMEOUT_S,
                env=self.env(),
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unknown ({exc})"
        lines = (done.stdout or done.stderr).strip().splitlines()
        if done.returncode != 0 or not lines:
            return f"unknown (exit {done.returncode})"
        return lines[0]

    def version_args(self) -> list[str]:
        return ["--version"]

    # -- commands ----------------------------------------------------------------

    @property
    @abstractmethod
    def settings(self) -> str:
        """Human-readable repository settings used in the benchmark."""

    @abstractmethod
    def init(self) -> Invocation: ...

    @abstractmethod
    def backup(self, source: str, source_parent: Path, label: str) -> Invocation:
        """Back up ``source`` (a relative path) from directory ``source_parent``."""

    @abstractmethod
    def restore_latest(self, target: Path) -> Invocation: ...

    @abstractmethod
    def check_read_data(self) -> Invocation: ...

    @abstractmethod
    def list_snapshots(self) -> Invocation: ...

    @abstractmethod
    def count_snapshots(self, output: str) -> int: ...

    def snapshot_count(self) -> int | None:
        """Number of snapshots in the repository, or None if listing fails."""
        call = self.list_snapshots()
        try:
            done = subprocess.run(
                call.argv,
                cwd=call.cwd,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=LIST_TIMEOUT_S,
                check=False,
            )
            if done.returncode != 0:
                return None
            return self.count_snapshots(done.stdout)
        except (OSError, subprocess.TimeoutExpired, ValueError, TypeError, KeyError):
            return None


class ResticRunner(ToolRunner):
    """restic: repository format v2 with the default ``auto`` compression."""

    name = "restic"
    install_hint = f"install it with: {APT_INSTALL}"
    password_env = "RESTIC_PASSWORD"

    @property
    def settings(self) -> str:
        return f"repository version {RESTIC_REPO_VERSION}, compression auto (default)"

    def extra_env(self) -> dict[str, str]:
        return {"RESTIC_CACHE_DIR": str(self.workdir / "cache" / "restic")}

    def version_args(self) -> list[str]:
        return ["version"]

    def _base(self) -> list[str]:
        return [*self.command, "--repo", str(self.repo)]

    def init(self) -> Invocation:
        argv = [*self._base(), "init", "--repository-version", RESTIC_REPO_VERSION]
        return Invocation(argv, self.workdir)

    def backup(self, source: str, source_parent: Path, label: str) -> Invocation:
        self.last_snapshot_label = label
        argv = [*self._base(), "backup", "--quiet", "--tag", label, source]
        return Invocation(argv, source_parent)

    def restore_latest(self, target: Path) -> Invocation:
        argv = [*self._base(), "restore", "latest", "--target", str(target), "--quiet"]
        return Invocation(argv, self.workdir)

    def check_read_data(self) -> Invocation:
        return Invocation([*self._base(), "check", "--read-data", "--quiet"], self.workdir)

    def list_snapshots(self) -> Invocation:
        return Invocation([*self._base(), "snapshots", "--json"], self.workdir)

    def count_snapshots(self, output: str) -> int:
        return len(json.loads(output))


class BorgRunner(ToolRunner):
    """borg 1.2: ``repokey-blake2`` encryption, ``zstd,3`` compression."""

    name = "borg"
    install_hint = f"install it with: {APT_INSTALL}"
    password_env = "BORG_PASSPHRASE"

    @property
    def settings(self) -> str:
        return f"encryption {BORG_ENCRYPTION}, compression {BORG_COMPRESSION}"

    def extra_env(self) -> dict[str, str]:
        return {
            "BORG_BASE_DIR": str(self.workdir / "home"),
            "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes",
        }

    def init(self) -> Invocation:
        argv = [*self.command, "init", "--encryption", BORG_ENCRYPTION, str(self.repo)]
        return Invocation(argv, self.workdir)

    def backup(self, source: str, source_parent: Path, label: str) -> Invocation:
        self.last_snapshot_label = label
        argv = [
            *self.command,
            "create",
            "--compression",
            BORG_COMPRESSION,
            f"{self.repo}::{label}",
            source,
        ]
        return Invocation(argv, source_parent)

    def restore_latest(self, target: Path) -> Invocation:
        # borg 1.2 has no "latest" alias and extracts into the current directory.
        if self.last_snapshot_label is None:
            raise RuntimeError("borg: no archive created yet")
        argv = [*self.command, "extract", f"{self.repo}::{self.last_snapshot_label}"]
        return Invocation(argv, target)

    def check_read_data(self) -> Invocation:
        return Invocation([*self.command, "check", "--verify-data", str(self.repo)], self.workdir)

    def list_snapshots(self) -> Invocation:
        return Invocation([*self.command, "list", "--json", str(self.repo)], self.workdir)

    def count_snapshots(self, output: str) -> int:
        return len(json.loads(output)["archives"])


class DrkitRunner(ToolRunner):
    """drkit, through its CLI contract (``drkit --repo DIR <command>``)."""

    name = "drkit"
    install_hint = "create the project venv (uv sync) or pass --drkit-cmd"
    password_env = "DRKIT_PASSWORD"

    @property
    def settings(self) -> str:
        return "defaults"

    def extra_env(self) -> dict[str, str]:
        return {
            "DRKIT_HOME": str(self.workdir / "home"),
            "DRKIT_CACHE_DIR": str(self.workdir / "cache" / "drkit"),
        }

    def _base(self) -> list[str]:
        return [*self.command, "--repo", str(self.repo)]

    def init(self) -> Invocation:
        return Invocation([*self._base(), "init"], self.workdir)

    def backup(self, source: str, source_parent: Path, label: str) -> Invocation:
        self.last_snapshot_label = label
        return Invocation([*self._base(), "backup", source, "--quiet"], source_parent)

    def restore_latest(self, target: Path) -> Invocation:
        argv = [*self._base(), "restore", "latest", "--target", str(target), "--quiet"]
        return Invocation(argv, self.workdir)

    def check_read_data(self) -> Invocation:
        return Invocation([*self._base(), "check", "--read-data", "--quiet"], self.workdir)

    def list_snapshots(self) -> Invocation:
        return Invocation([*self._base(), "snapshots", "--json"], self.workdir)

    def count_snapshots(self, output: str) -> int:
        data = json.loads(output)
        if isinstance(data, dict):
            data = data["snapshots"]
        return len(data)


class Borg14Runner(BorgRunner):
    """borg 1.4 from PyPI, in its own venv made by the bench (see ``ensure_borg14``)."""

    name = "borg14"
    install_hint = (
        "the bench installs it into WORK/borg14-venv with pip (needs the Debian packages "
        "libacl1-dev liblz4-dev libzstd-dev libxxhash-dev libssl-dev pkg-config)"
    )


BORG14_VERSION = "1.4.5"


def ensure_borg14(venv: Path) -> str:
    """The borg executable of a venv holding borgbackup 1.4 from PyPI, made if missing."""
    borg = venv / "bin" / "borg"
    if borg.exists():
        return str(borg)
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True, capture_output=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", f"borgbackup=={BORG14_VERSION}"],
        check=False,
        capture_output=True,
    )
    return str(borg)


RUNNERS: dict[str, type[ToolRunner]] = {
    runner.name: runner for runner in (DrkitRunner, ResticRunner, BorgRunner, Borg14Runner)
}
