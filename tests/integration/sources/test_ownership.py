# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as parameters
"""Two users share one repository: root (copy, basebackup from cron) and postgres
(wal-push, wal-fetch, its own base backups). Whatever one writes the other reads: new
files take the repository folder's owner and group, and restored files the server's.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from tests.fixtures.pgcluster import (
    PG_BIN,
    PgLab,
    RowWriter,
    chown_postgres,
    drkit_script,
    pglab,  # noqa: F401
)


def as_postgres(
    lab: PgLab, *args: str, repo: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = lab.drkit_env()
    if repo is not None:
        env["DRKIT_REPO"] = str(repo)
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", str(drkit_script()), *args],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def strangers(repo: Path, uid: int) -> list[str]:
    """Files and folders of ``repo`` not owned by ``uid``."""
    found = []
    for folder, dirs, files in os.walk(repo):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if path.lstat().st_uid != uid:
                found.append(str(path.relative_to(repo)))
    return found


def test_root_and_postgres_read_each_others_files(pglab: PgLab) -> None:
    postgres = pwd.getpwnam("postgres").pw_uid
    primary = pglab.cluster()
    writer = RowWriter(primary)
    writer.start()
    root_backup = pglab.drkit("pg", "basebackup", "--dsn", primary.dsn)  # root, as from cron
    assert root_backup.returncode == 0, root_backup.stderr
    own_backup = as_postgres(pglab, "pg", "basebackup", "--dsn", primary.dsn)
    assert own_backup.returncode == 0, own_backup.stderr  # reads root's index and snapshot

    offsite = pglab.base / "offsite"  # a copy made by root into a folder postgres owns
    offsite.mkdir(mode=0o750)
    chown_postgres(offsite)
    assert pglab.drkit("--repo", str(offsite), "init").returncode == 0
    rows = writer.stop()
    primary.wait_archived(primary.switch_wal())
    to = ["--to", str(offsite), "--to-password-file", str(pglab.password_file)]
    done = pglab.drkit("copy", *to)
    assert done.returncode == 0, done.stderr
    assert strangers(pglab.repo, postgres) == []
    assert strangers(offsite, postgres) == []
    check = as_postgres(pglab, "check", "--chain", "--read-data", repo=offsite)
    assert check.returncode == 0, check.stdout + check.stderr

    datadir = pglab.base / "restored"
    env = pglab.drkit_env(DRKIT_REPO=str(offsite))
    done = pglab.drkit("pg", "restore", "--to", str(datadir), "--latest", env=env)
    assert done.returncode == 0, done.stderr
    manifest = (datadir / "backup_manifest").stat()
    assert manifest.st_uid == postgres  # not pg_basebackup's made-up 2048
    verified = subprocess.run(
        ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_verifybackup"), "-n", str(datadir)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    restored = pglab.restored(datadir, "restored")  # wal-fetch as postgres, root's WAL copies
    restored.wait_promoted()
    assert restored.one("select count(*) from pitr") == rows
