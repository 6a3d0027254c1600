"""The jobs drkit.yaml asks for."""

from __future__ import annotations

from pathlib import Path

from drkit.scheduler.jobs import JobKind, plan_jobs
from drkit.settings.model import Settings
from drkit.settings.verification import DEFAULT_CHECK as DEFAULT_CHECK_SCHEDULE
from drkit.sources.registry import source_labels


def settings(tmp_path: Path, **policy: object) -> Settings:
    return Settings.model_validate(
        {
            "repositories": {
                "local": {"url": str(tmp_path / "a")},
                "offsite": {"url": str(tmp_path / "b"), "site": "dc2"},
            },
            "policies": {
                "app": {"sources": [str(tmp_path)], "repositories": ["local", "offsite"], **policy}
            },
        }
    )


def test_a_policy_without_schedule_still_gets_verification_jobs(tmp_path: Path) -> None:
    jobs = plan_jobs(settings(tmp_path))
    assert [j.id for j in jobs] == [
        "check:app:local",
        "read-data:app:local",
        "check:app:offsite",
        "read-data:app:offsite",
        "config-collect:config",
    ]
    check = jobs[0]
    assert check.schedule == DEFAULT_CHECK_SCHEDULE
    assert check.steps[0].argv == ("--repo", "local", "check")


def test_backup_job_applies_retention_after_the_backup(tmp_path: Path) -> None:
    jobs = plan_jobs(settings(tmp_path, schedule="@daily", retention={"daily": 7}))
    backup = next(j for j in jobs if j.kind is JobKind.BACKUP)
    assert backup.schedule == "0 0 * * *"
    assert [s.name for s in backup.steps] == ["backup", "retention"]
    assert backup.steps[1].argv == ("forget", "--policy", "app", "--prune")


def test_a_retention_schedule_makes_its_own_job(tmp_path: Path) -> None:
    jobs = plan_jobs(
        settings(
            tmp_path, schedule="0 2 * * *", retention={"daily": 7}, retention_schedule="0 6 * * 0"
        )
    )
    kinds = {j.id: j for j in jobs}
    assert [s.name for s in kinds["backup:app"].steps] == ["backup"]
    assert kinds["retention:app"].schedule == "0 6 * * 0"


def test_copies_are_scheduled_per_source_repository(tmp_path: Path) -> None:
    jobs = plan_jobs(
        settings(tmp_path, copies=[{"from": "local", "to": ["offsite"], "schedule": "30 3 * * *"}])
    )
    copy = next(j for j in jobs if j.kind is JobKind.COPY)
    assert copy.id == "copy:app:local"
    assert copy.steps[0].argv == ("copy", "--from", "local", "--to", "offsite")


def test_verification_settings_schedule_rotating_reads_and_restore_tests(tmp_path: Path) -> None:
    jobs = plan_jobs(
        settings(
            tmp_path,
            verification={
                "check": None,
                "read_data": None,
                "read_subset": {"schedule": "0 3 * * *", "period": "30d"},
                "restore_test": {"schedule": "0 6 * * 6"},
            },
        )
    )
    by_id = {j.id: j for j in jobs}
    assert set(by_id) - {"config-collect:config"} == {
        "read-subset:app:local",
        "restore-test:app:local",
        "read-subset:app:offsite",
        "restore-test:app:offsite",
    }
    subset = by_id["read-subset:app:local"].steps[0].argv
    assert subset[:4] == ("--repo", "local", "verify", "subset")
    assert subset[subset.index("--interval") + 1] == "1d"
    assert by_id["restore-test:app:offsite"].steps[0].argv == (
        "--repo",
        "offsite",
        "verify",
        "restore-test",
        "--policy",
        "app",
    )


def test_configuration_is_collected_daily_and_drills_run_on_their_schedule(
    tmp_path: Path,
) -> None:
    base = settings(tmp_path).model_dump(by_alias=True)
    base["runbooks"] = {
        "drills": [
            {"runbook": "failover", "schedule": "0 10 * * 3", "inputs": {"region": "b"}},
            {"runbook": "failover", "schedule": "0 4 * * 6"},  # a second drill of one runbook
        ]
    }
    jobs = {j.id: j for j in plan_jobs(Settings.model_validate(base))}
    assert jobs["config-collect:config"].schedule == "0 1 * * *"
    drill = jobs["drill:failover"]
    assert drill.kind is JobKind.DRILL
    assert drill.steps[0].argv == (
        "runbook",
        "run",
        "failover",
        "--drill",
        "--input",
        "region=b",
    )
    second = jobs["drill:failover:2"]  # its own job and scheduling record, not a shared one
    assert second.schedule == "0 4 * * 6" and second.steps[0].argv[-1] == "--drill"


def test_two_drills_of_one_runbook_are_two_jobs(tmp_path: Path) -> None:
    base = settings(tmp_path).model_dump(by_alias=True)
    base["runbooks"] = {
        "drills": [
            {"runbook": "failover", "schedule": "0 10 * * 3", "inputs": {"region": "b"}},
            {"runbook": "failover", "schedule": "0 10 * * 6", "inputs": {"region": "c"}},
            {"runbook": "restore", "schedule": "0 3 * * *"},
        ]
    }
    drills = [j for j in plan_jobs(Settings.model_validate(base)) if j.kind is JobKind.DRILL]
    assert [(j.id, j.schedule, j.steps[0].argv[-1]) for j in drills] == [
        ("drill:failover", "0 10 * * 3", "region=b"),
        ("drill:failover:2", "0 10 * * 6", "region=c"),
        ("drill:restore", "0 3 * * *", "--drill"),
    ]
    assert all(j.subject == j.steps[0].argv[2] for j in drills)


def test_retention_of_a_physical_postgres_policy_also_expires_wal(tmp_path: Path) -> None:
    base = settings(tmp_path, schedule="@daily", retention={"daily": 7}).model_dump(by_alias=True)
    base["policies"]["app"]["sources"] = [
        {"type": "postgres-physical", "dsn": "host=127.0.0.1 user=postgres"}
    ]
    jobs = {j.id: j for j in plan_jobs(Settings.model_validate(base))}
    assert [s.argv for s in jobs["backup:app"].steps[2:]] == [
        ("--repo", "local", "pg", "expire-wal"),
        ("--repo", "offsite", "pg", "expire-wal"),
    ]


def test_a_restore_test_job_tests_each_source_of_the_policy(tmp_path: Path) -> None:
    db = {"type": "sqlite", "path": str(tmp_path / "app.db")}
    raw = settings(tmp_path).model_dump(mode="json", exclude_unset=True)
    raw["policies"]["app"]["sources"] = [db, str(tmp_path / "srv")]
    raw["policies"]["app"]["verification"] = {"restore_test": {"schedule": "0 6 * * 6"}}
    base = Settings.model_validate(raw)
    job = next(j for j in plan_jobs(base) if j.id == "restore-test:app:local")
    files = str(tmp_path / "srv")
    (sqlite,) = [label for label in source_labels(base.policies["app"].sources) if label != files]
    by_source = {s.sources: s.argv for s in job.steps}
    assert set(by_source) == {(files,), (sqlite,)}
    assert by_source[(sqlite,)][-2:] == ("--path", sqlite)
    assert by_source[(files,)][-2:] == ("--path", files)


def test_a_physical_source_gets_an_archive_check_job_per_repository(tmp_path: Path) -> None:
    raw = settings(tmp_path).model_dump(mode="json", exclude_unset=True)
    pw = tmp_path / "pg.pw"
    raw["policies"]["app"]["sources"] = [
        {"type": "postgres-physical", "dsn": "host=db1 user=rep", "password_file": str(pw),
         "archive_check": "*/30 * * * *", "archive_lag": 45, "wal_reprove": "2d"}
    ]  # fmt: skip
    jobs = {j.id: j for j in plan_jobs(Settings.model_validate(raw))}
    check = jobs["archive-check:app:offsite"]
    assert check.schedule == "*/30 * * * *" and check.repositories == ("offsite",)
    assert check.steps[0].argv == ("--repo", "offsite", "pg", "check", "--dsn",
                                   "host=db1 user=rep", "--pg-password-file", str(pw),
                                   "--timeout", "45", "--reprove-after", "2d")  # fmt: skip
    assert "archive-check:app:local" in jobs

    raw["policies"]["app"]["sources"][0]["archive_check"] = ""
    assert not any(
        j.startswith("archive-check:")
        for j in (j.id for j in plan_jobs(Settings.model_validate(raw)))
    )
