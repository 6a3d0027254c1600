"""Building a data directory for point-in-time recovery from a base backup.

The steps, after :func:`drkit.sources.pitr.plan_restore` said yes:

1. the target directory must be missing or empty; ``--force`` empties it,
   but never while a server runs in it (a live ``postmaster.pid``);
2. the stored ``base.tar`` is streamed out of the repository into it;
3. recovery settings are appended to ``postgresql.auto.conf`` (a
   ``restore_command`` calling ``drkit wal-fetch`` with this repository, the
   target, ``recovery_target_action = 'promote'``, and archiving switched off
   unless asked to keep it, so a restored copy never archives into the
   original's WAL stream) and ``recovery.signal`` is created;
4. the directory is given to the owner of the restored files, mode 0700.

Starting the server is left to the user (``pg_ctl -D DIR start``); it then
fetches WAL until the target and promotes.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from drkit.repository.progress import Progress
from drkit.repository.repo import Repository
from drkit.repository.stream import find_stream, open_stream
from drkit.sources.base import RestoreRequest, RestoreResult, counted
from drkit.sources.pitr import RecoveryTarget, RestorePlan, TargetKind, plan_restore
from drkit.sources.postgres_physical_meta import PhysicalBackup, PhysicalBackupInfo
from drkit.sources.postgres_physical_tar import unpack
from drkit.sources.wal_archive import WalArchive
from drkit.sources.wal_errors import RestoreTargetNotEmpty
from drkit.sources.wal_inventory import archive_state
from drkit.sources.wal_names import format_lsn
from drkit.sources.wal_verify import check_readable_by, verify_segments

PASSWORD_FILE_NAME = "drkit-recovery.pass"


@dataclass(frozen=True)
class FetchAccess:
    """How the restored server's ``restore_command`` reaches this repository."""

    repo: str  # URL, or a name in ``config``
    system_id: int
    config: Path | None = None
    password_file: Path | None = None
    password: str | None = field(default=None, repr=False)  # only when no file names it
    drkit: tuple[str, ...] = ()

    def command(self, password_file: Path | None) -> str:
        """The shell command PostgreSQL runs, with ``%f`` and ``%p`` left for it to fill."""
        argv = list(self.drkit or drkit_executable())
        if self.config is not None:
            argv += ["--config", str(self.config)]
        argv += ["--repo", self.repo]
        if password_file is not None:
            argv += ["--password-file", str(password_file)]
        argv += ["wal-fetch", "--system-id", str(self.system_id)]
        quoted = " ".join(shlex.quote(a).replace("%", "%%") for a in argv)
        return f'{quoted} "%f" "%p"'


def drkit_executable() -> tuple[str, ...]:
    """This installation's ``drkit`` console script, else ``python -m drkit``."""
    script = Path(sys.executable).with_name("drkit")
    if script.is_file() and os.access(script, os.X_OK):
        return (str(script),)
    return (sys.executable, "-m", "drkit")


@dataclass(frozen=True)
class RestoreOutcome:
    datadir: Path
    backup: PhysicalBackup
    members: int
    bytes: int
    created: bool
    settings: list[tuple[str, str]]
    notes: list[str]


def prepare_target(datadir: Path, force: bool) -> bool:
    """Make sure ``datadir`` may be written; True when it did not exist."""
    if not datadir.exists():
        datadir.mkdir(parents=True, mode=0o700)
        return True
    if not datadir.is_dir():
        raise RestoreTargetNotEmpty(f"{datadir} exists and is not a directory")
    entries = sorted(datadir.iterdir())
    if not entries:
        return False
    if _server_running(datadir):
        raise RestoreTargetNotEmpty(
            f"a PostgreSQL server is running in {datadir}",
            hint="stop it first (pg_ctl -D DIR stop); --force never removes a live cluster",
        )
    if not force:
        raise RestoreTargetNotEmpty(f"{datadir} is not empty ({len(entries)} entries)")
    _empty(datadir)
    return False


def _empty(datadir: Path) -> None:
    for entry in datadir.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _server_running(datadir: Path) -> bool:
    try:
        pid = int((datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def recovery_settings(
    plan: RestorePlan, restore_command: str, *, keep_archiving: bool
) -> list[tuple[str, str]]:
    """The settings appended to postgresql.auto.conf (pure)."""
    target = plan.target
    settings = [("restore_command", restore_command)]
    if target.kind is TargetKind.TIME and target.time is not None:
        settings.append(("recovery_target_time", target.time.isoformat()))
    elif target.kind is TargetKind.LSN and target.lsn is not None:
        settings.append(("recovery_target_lsn", format_lsn(target.lsn)))
    if target.kind is not TargetKind.LATEST:
        settings.append(("recovery_target_action", "promote"))
    tli = target.timeline if target.timeline != "current" else str(plan.backup.info.timeline)
    settings.append(("recovery_target_timeline", tli))
    if not keep_archiving:
        settings.append(("archive_mode", "off"))
    return settings


def restore_plan(
    repo: Repository,
    plan: RestorePlan,
    datadir: Path,
    access: FetchAccess,
    *,
    force: bool = False,
    keep_archiving: bool = False,
    progress: Progress | None = None,
    verify_progress: Progress | None = None,
) -> RestoreOutcome:
    """Unpack the plan's base backup into ``datadir`` and set it up to recover.

    Every WAL segment the plan needs is read and authenticated first, and after
    unpacking, checked to be readable by the data directory's owner; either
    failure refuses before recovery settings are written.
    """
    snapshot, info = plan.backup.snapshot, plan.backup.info
    sysid = info.system_identifier
    verify_segments(WalArchive(repo), sysid, plan.segments, verify_progress)
    created = prepare_target(datadir, force)
    size = find_stream(repo, snapshot, info.stream).size
    blocks = counted(open_stream(repo, snapshot, info.stream), progress or Progress(), size)
    try:
        members = unpack(blocks, datadir)
    except BaseException:
        _empty(datadir)  # a half-unpacked cluster must not look like a restored one
        raise
    uid, gid = _owner(datadir)
    try:
        check_readable_by(repo.backend, sysid, plan.segments, uid, gid)
    except BaseException:
        _empty(datadir)
        raise
    notes = list(plan.notes)
    password_file = access.password_file
    if password_file is None and access.password is not None:
        password_file = datadir / PASSWORD_FILE_NAME
        _write_owned(password_file, access.password + "\n", uid, gid)
        notes.append(
            f"the passphrase for wal-fetch is in {password_file}: remove it after recovery"
        )
    settings = recovery_settings(plan, access.command(password_file), keep_archiving=keep_archiving)
    _append_settings(datadir / "postgresql.auto.conf", settings, snapshot.short_id, uid, gid)
    _write_owned(datadir / "recovery.signal", "", uid, gid)
    os.chmod(datadir, 0o700)
    if os.geteuid() == 0:
        os.chown(datadir, uid, gid)
    return RestoreOutcome(datadir, plan.backup, members, size, created, settings, notes)


def _owner(datadir: Path) -> tuple[int, int]:
    """Who owns the restored files (the server's user, from the tar headers)."""
    st = (datadir / "PG_VERSION").stat()
    return st.st_uid, st.st_gid


def _write_owned(path: Path, text: str, uid: int, gid: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    if os.geteuid() == 0:
        os.chown(path, uid, gid)


def _append_settings(
    conf: Path, settings: list[tuple[str, str]], snapshot: str, uid: int, gid: int
) -> None:
    when = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [f"\n# drkit pg restore of base backup {snapshot} at {when}\n"]
    lines += [f"{key} = '{value.replace(chr(39), chr(39) * 2)}'\n" for key, value in settings]
    existed = conf.exists()
    with open(conf, "a") as fh:
        fh.writelines(lines)
    if not existed and os.geteuid() == 0:
        os.chown(conf, uid, gid)


def restore_snapshot_latest(request: RestoreRequest) -> RestoreResult:
    """The generic source restore: this snapshot, recovered to the end of the archived WAL.

    The restore_command reaches the repository the way this process did:
    ``DRKIT_REPO``/``DRKIT_CONFIG``/``DRKIT_PASSWORD_FILE`` from the environment,
    else the repository's location and a passphrase file in the data directory.
    """
    info = PhysicalBackupInfo.from_meta(request.snapshot.meta)
    backup = PhysicalBackup(request.snapshot, info)
    archive = archive_state(request.repo, info.system_identifier, info.wal_segment_size)
    plan = plan_restore([backup], RecoveryTarget.parse(None, None, None), archive)
    env_file = os.environ.get("DRKIT_PASSWORD_FILE")
    config = os.environ.get("DRKIT_CONFIG")
    access = FetchAccess(
        repo=os.environ.get("DRKIT_REPO") or request.repo.backend.location,
        system_id=info.system_identifier,
        config=Path(config) if config else None,
        password_file=Path(env_file).absolute() if env_file else None,
        password=None if env_file else os.environ.get("DRKIT_PASSWORD"),
    )
    done = restore_plan(
        request.repo,
        plan,
        Path(request.target),
        access,
        force=request.force,
        progress=request.progress,
    )
    notes = (*done.notes, f"start the server: pg_ctl -D {done.datadir} start")
    return RestoreResult(str(done.datadir), done.bytes, done.created, notes)
