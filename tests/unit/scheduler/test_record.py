"""The step recorder: what a verification step proved, and that a lock proves nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.runs import StepStatus
from drkit.catalog.tables import VerificationRow
from drkit.monitor.evidence import DAMAGED_LINE, READ_LINE, packs_in
from drkit.scheduler.executor import StepResult
from drkit.scheduler.jobs import Job, JobKind, JobStep
from drkit.scheduler.record import StepRecorder

STEP = JobStep("read subset local", ("--repo", "local", "verify", "subset"))
JOB = Job("read-subset:app:local", JobKind.READ_SUBSET, "app", "* * * * *", (STEP,), "local")
T0 = datetime(2026, 11, 24, tzinfo=UTC)


def record(tmp_path: Path, result: StepResult) -> list[VerificationRow]:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    StepRecorder(catalog, lambda _: None, lambda _: ["local"])(JOB, result)
    with catalog.session() as session:
        return list(session.scalars(select(VerificationRow)))


def test_a_failed_rotating_read_records_the_damaged_and_the_good_packs(tmp_path: Path) -> None:
    doc = {
        "results": [{"pack": "p1", "status": "damaged"}, {"pack": "p2", "status": "ok"}],
    }
    error = "the rotating read found problems (damaged packs: p1)"
    (row,) = record(tmp_path, StepResult(STEP, StepStatus.FAILED, 13, doc, error, T0, 1.0))
    assert not row.ok
    assert row.summary.splitlines()[0] == error
    assert packs_in(row.summary, DAMAGED_LINE) == {"p1"}
    assert packs_in(row.summary, READ_LINE) == {"p2"}


def test_a_lock_is_not_recorded_as_a_verification(tmp_path: Path) -> None:
    error = "the repository is locked"
    assert record(tmp_path, StepResult(STEP, StepStatus.FAILED, 11, None, error, T0, 1.0)) == []


RESTORE = JobStep(
    "restore test local postgres://db:5432/app",
    (
        "--repo",
        "local",
        "verify",
        "restore-test",
        "--policy",
        "app",
        "--path",
        "postgres://db:5432/app",
    ),
    ("postgres://db:5432/app",),
)
RESTORE_JOB = Job(
    "restore-test:app:local", JobKind.RESTORE_TEST, "app", "* * * * *", (RESTORE,), "local"
)


def record_restore(tmp_path: Path, result: StepResult) -> list[VerificationRow]:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    StepRecorder(catalog, lambda _: None, lambda _: ["local"])(RESTORE_JOB, result)
    with catalog.session() as session:
        return list(session.scalars(select(VerificationRow)))


def test_a_restore_test_is_evidence_for_the_sources_its_snapshot_held(tmp_path: Path) -> None:
    doc = {"snapshot": "a" * 64, "rto_s": 4.5, "sources": ["postgres://db:5432/app"]}
    (row,) = record_restore(
        tmp_path, StepResult(RESTORE, StepStatus.SUCCEEDED, 0, doc, None, T0, 9)
    )
    assert row.ok and row.source == "postgres://db:5432/app" and row.duration_s == 4.5


def test_a_restore_test_that_found_no_snapshot_fails_the_source_it_was_to_prove(
    tmp_path: Path,
) -> None:
    error = "the repository has no snapshot with tag policy:app and path postgres://db:5432/app"
    (row,) = record_restore(
        tmp_path, StepResult(RESTORE, StepStatus.FAILED, 14, None, error, T0, 1)
    )
    assert not row.ok and row.source == "postgres://db:5432/app"


def test_each_kind_reads_its_own_key_and_guesses_no_other(tmp_path: Path) -> None:
    # a restore test's RTO is rto_s; a duration_s in its document is not read instead
    doc = {"snapshot_id": "b" * 64, "duration_s": 99.0, "sources": []}
    (tmp_path / "restore").mkdir()
    (row,) = record_restore(
        tmp_path / "restore", StepResult(RESTORE, StepStatus.SUCCEEDED, 0, doc, None, T0, 7.0)
    )
    assert row.duration_s == 7.0 and row.snapshot_id is None  # the step's own time
    # a rotating read's time is duration_s, never an rto_s
    read = {"rto_s": 99.0, "duration_s": 2.5, "results": []}
    (row,) = record(tmp_path, StepResult(STEP, StepStatus.SUCCEEDED, 0, read, None, T0, 9.0))
    assert row.duration_s == 2.5


def test_the_declared_keys_are_those_of_the_commands_json() -> None:
    from drkit.scheduler.jobs import EVIDENCE
    from drkit.verify.restore_test import RestoreTestResult
    from drkit.verify.subset import PackCheckResult, PackStatus, SubsetCheckResult

    restore = RestoreTestResult(
        "local", "r", "a" * 64, T0, T0, 1, 10, (), (), (), 2.0, 1.5, ("src",)
    ).to_json()
    keys = EVIDENCE[JobKind.RESTORE_TEST]
    assert restore[keys.duration or ""] == 1.5  # the RTO, not the total
    assert restore[keys.snapshot or ""] == "a" * 64
    assert restore[keys.sources or ""] == ["src"]
    pack = PackCheckResult("p1", 10, T0, PackStatus.OK)
    subset = SubsetCheckResult("r", T0, 3.0, 1, 10, (pack,), (), ()).to_json()
    keys = EVIDENCE[JobKind.READ_SUBSET]
    assert subset[keys.duration or ""] == 3.0
    assert subset[keys.packs or ""][0]["pack"] == "p1"
    from drkit.scheduler.record import VERIFYING

    assert set(EVIDENCE) == set(VERIFYING)  # every verifying kind declares its evidence
