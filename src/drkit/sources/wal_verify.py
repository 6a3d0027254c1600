"""Before recovery starts: is every WAL segment it needs there, intact and readable?

PostgreSQL cannot tell a damaged archive from the end of the archive unless
``restore_command`` fails fatally, and a server that stops halfway through
recovery is still a bad surprise. So ``drkit pg restore`` reads and
authenticates every segment the plan names (several at once: each is one
round trip and one AEAD open), and, for a repository on a local disk, checks
that the user who will run recovery (the owner of the restored data
directory) may read each WAL object. Either failure names the segment and
refuses before the recovery settings are written.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from drkit.repository.progress import Progress
from drkit.sources.wal_archive import WalArchive, object_name
from drkit.sources.wal_errors import WalDamaged, WalNotArchived, WalUnreadable
from drkit.storage.base import Backend, FileKind
from drkit.storage.local import LocalBackend

VERIFY_THREADS = 4


def verify_segments(
    archive: WalArchive, system_id: int, names: Sequence[str], progress: Progress | None = None
) -> None:
    """Fetch and authenticate every segment in ``names``; raise naming the first bad one."""
    progress = progress or Progress()
    progress.start("verifying WAL")
    progress.set_total(len(names), None)

    def one(name: str) -> str | None:
        try:
            archive.fetch(system_id, name)
        except (WalDamaged, WalNotArchived) as exc:
            return exc.message
        finally:
            progress.advance(files=1)
        return None

    try:
        with ThreadPoolExecutor(VERIFY_THREADS) as pool:
            results = list(pool.map(one, names))
    finally:
        progress.finish()
    bad = [(n, why) for n, why in zip(names, results, strict=True) if why is not None]
    if bad:
        name, why = bad[0]
        more = f" ({len(bad) - 1} more segment(s) also bad)" if len(bad) > 1 else ""
        raise WalDamaged(
            f"WAL segment {name}, which recovery needs, cannot be restored: {why}{more}; "
            "nothing was written",
            hint=f"restore it from another copy of the repository, or recover to a target "
            f"before {name} (--target-lsn); `drkit check --chain --read-data` lists all damage",
        )


def local_wal_path(backend: Backend, name: str) -> Path | None:
    """Where a WAL object lives on disk, for a local repository (through wrappers)."""
    while not isinstance(backend, LocalBackend):
        inner = getattr(backend, "inner", None)
        if not isinstance(inner, Backend):
            return None
        backend = inner
    return backend.root / FileKind.WAL.value / name


def readable_by(path: Path, uid: int, gids: set[int]) -> bool:
    """Whether ``uid`` (in groups ``gids``) may open ``path`` for reading (mode bits only)."""
    if uid == 0:
        return True
    try:
        st = path.stat()
    except OSError:
        return False
    if not _allowed(st, uid, gids, stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH):
        return False
    return all(
        _allowed(folder.stat(), uid, gids, stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH)
        for folder in path.parents
    )


def _allowed(st: os.stat_result, uid: int, gids: set[int], u: int, g: int, o: int) -> bool:
    if st.st_uid == uid:
        return bool(st.st_mode & u)
    if st.st_gid in gids:
        return bool(st.st_mode & g)
    return bool(st.st_mode & o)


def user_groups(uid: int, gid: int) -> set[int]:
    """The primary and supplementary groups of ``uid``."""
    import pwd

    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return {gid}
    return {gid, *os.getgrouplist(entry.pw_name, entry.pw_gid)}


def check_readable_by(
    backend: Backend, system_id: int, names: Sequence[str], uid: int, gid: int
) -> None:
    """Refuse when the user who runs recovery cannot read a WAL object it needs."""
    groups = user_groups(uid, gid)
    for name in names:
        path = local_wal_path(backend, object_name(system_id, name))
        if path is not None and not readable_by(path, uid, groups):
            raise WalUnreadable(
                f"WAL segment {name} is in the repository, but the user who runs recovery "
                f"(uid {uid}, owner of the restored data directory) cannot read {path}; "
                "recovery would stop there",
                hint="give that user read access to the repository (see 'File ownership' "
                "in docs/postgres.md), e.g. chgrp -R postgres REPO; chmod -R g+rX REPO",
            )
