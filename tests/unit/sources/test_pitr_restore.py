"""Restoring for PITR without a server: the restore_command, the settings, the target folder."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from drkit.sources.pitr import RecoveryTarget, RestorePlan, TargetKind
from drkit.sources.pitr_restore import FetchAccess, prepare_target, recovery_settings
from drkit.sources.wal_errors import RestoreTargetNotEmpty
from tests.unit.sources.chainkit import at, lsn
from tests.unit.sources.test_pitr_plan import A


def test_restore_command_quotes_paths_and_escapes_percent_signs() -> None:
    access = FetchAccess(
        repo="/backups/100% sure/repo",
        system_id=42,
        password_file=Path("/etc/drkit/it's.pass"),
        drkit=("/opt/drkit/bin/drkit",),
    )
    command = access.command(access.password_file)
    assert command.endswith(' "%f" "%p"')
    # PostgreSQL turns %% into %, then the shell splits the words back
    words = shlex.split(command.replace("%%", "%").removesuffix(' "%f" "%p"'))
    assert words == [
        "/opt/drkit/bin/drkit",
        "--repo",
        "/backups/100% sure/repo",
        "--password-file",
        "/etc/drkit/it's.pass",
        "wal-fetch",
        "--system-id",
        "42",
    ]


def test_restore_command_with_a_named_repository() -> None:
    access = FetchAccess("nas", 7, config=Path("/etc/drkit/drkit.yaml"), drkit=("drkit",))
    assert access.command(None) == (
        'drkit --config /etc/drkit/drkit.yaml --repo nas wal-fetch --system-id 7 "%f" "%p"'
    )


@pytest.mark.parametrize(
    ("target", "keep", "expected"),
    [
        (
            RecoveryTarget(TargetKind.TIME, time=at(30)),
            False,
            {
                "recovery_target_time": "2026-11-24T08:30:00+00:00",
                "recovery_target_action": "promote",
                "recovery_target_timeline": "latest",
                "archive_mode": "off",
            },
        ),
        (
            RecoveryTarget(TargetKind.LSN, lsn=lsn(4), timeline="current"),
            True,
            {
                "recovery_target_lsn": "0/4000028",
                "recovery_target_action": "promote",
                "recovery_target_timeline": "1",
            },
        ),
        (
            RecoveryTarget(TargetKind.LATEST, timeline="3"),
            False,
            {"recovery_target_timeline": "3", "archive_mode": "off"},
        ),
    ],
)
def test_recovery_settings(target: RecoveryTarget, keep: bool, expected: dict[str, str]) -> None:
    plan = RestorePlan(A, target, [1], "000000010000000000000004")
    settings = dict(recovery_settings(plan, "drkit wal-fetch", keep_archiving=keep))
    assert settings == {"restore_command": "drkit wal-fetch", **expected}


def test_prepare_target(tmp_path: Path) -> None:
    fresh = tmp_path / "a" / "b"
    assert prepare_target(fresh, force=False) is True
    assert fresh.stat().st_mode & 0o777 == 0o700
    assert prepare_target(fresh, force=False) is False  # empty: fine
    (fresh / "base" / "1").mkdir(parents=True)
    (fresh / "PG_VERSION").write_text("15\n")
    os.symlink("/nonexistent", fresh / "link")
    with pytest.raises(RestoreTargetNotEmpty) as caught:
        prepare_target(fresh, force=False)
    assert caught.value.exit_code == 27
    assert prepare_target(fresh, force=True) is False
    assert list(fresh.iterdir()) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(RestoreTargetNotEmpty):
        prepare_target(tmp_path / "file", force=True)


def test_force_never_empties_a_running_cluster(tmp_path: Path) -> None:
    (tmp_path / "postmaster.pid").write_text(f"{os.getpid()}\n/data\n")
    with pytest.raises(RestoreTargetNotEmpty, match="is running"):
        prepare_target(tmp_path, force=True)
    assert (tmp_path / "postmaster.pid").exists()
