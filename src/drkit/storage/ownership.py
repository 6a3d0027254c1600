"""Who owns the files of a local repository: the rule every writer follows.

Several users write one repository: root runs ``backup``, ``copy`` and
``pg basebackup`` from cron, ``postgres`` runs ``wal-push`` and ``wal-fetch``
from the server. Each must be able to read what the others wrote, or a
restore fails halfway (a WAL segment PostgreSQL cannot read during recovery).

The rule: **every file and folder drkit creates in a local repository takes
the owner and group of the repository's root folder, and is readable by that
group when the root folder is** (files 0640 and folders 0750 when the root
folder grants its group r-x; 0600 and 0700 otherwise). Ownership is given only
by a writer running as root (others cannot give files away); a writer running
as the owner, or as a member of the group on a setgid root folder, makes files
of that owner or group by itself. So: make the repository folder belong to the
user that runs recovery (``chown -R postgres:postgres REPO``), or to a shared
group with ``chmod g+rxs`` on every folder.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

GROUP_RX = stat.S_IRGRP | stat.S_IXGRP


@dataclass(frozen=True)
class Ownership:
    """What new files and folders get: owner, group, modes; ``chown`` only as root."""

    uid: int
    gid: int
    file_mode: int
    dir_mode: int
    chown: bool

    @classmethod
    def of_root(cls, root_mode: int, uid: int, gid: int, euid: int) -> Ownership:
        """The rule for a repository whose root folder has this mode and owner (pure)."""
        shared = root_mode & GROUP_RX == GROUP_RX
        return cls(uid, gid, 0o640 if shared else 0o600, 0o750 if shared else 0o700, euid == 0)

    @classmethod
    def read(cls, root: Path) -> Ownership | None:
        try:
            st = root.stat()
        except OSError:
            return None
        return cls.of_root(st.st_mode, st.st_uid, st.st_gid, os.geteuid())

    def apply_fd(self, fd: int) -> None:
        """Give an open file its mode and, as root, its owner."""
        os.fchmod(fd, self.file_mode)
        if self.chown:
            os.fchown(fd, self.uid, self.gid)

    def apply_path(self, path: Path, *, folder: bool) -> None:
        os.chmod(path, self.dir_mode if folder else self.file_mode)
        if self.chown:
            os.chown(path, self.uid, self.gid, follow_symlinks=False)

    def make_folder(self, path: Path) -> None:
        """Create ``path`` and the missing folders above it (inside the repository)."""
        missing = []
        probe = path
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            self.apply_path(folder, folder=True)
