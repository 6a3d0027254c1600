"""What `runbook run` says at the end: a hint that works, a rejection that is not a failed RTO."""

from __future__ import annotations

import pytest

from drkit.catalog.runs import RunStatus
from drkit.cli import runbook_run
from drkit.cli.output import Output
from drkit.runbooks.errors import StepFailed
from drkit.runbooks.service import RunReport


def report(error: str, *, rolled_back: bool = False, step: str = "restore") -> RunReport:
    return RunReport(
        run_id=7,
        runbook="restore",
        version="v1",
        kind="run",
        status=RunStatus.FAILED,
        error=error,
        failed_step=step,
        rolled_back=rolled_back,
        recovery_s=11.0,
        rto_s=600.0,
    )


def test_a_rolled_back_run_is_told_to_rerun_not_to_resume() -> None:
    with pytest.raises(StepFailed) as caught:
        rolled_back = report("step 'restore' failed: x", rolled_back=True)
        runbook_run.finish(rolled_back, Output(), drill=False)
    assert "runbook rerun 7 --from restore" in caught.value.hint
    assert "resume" not in caught.value.hint  # refused for a rolled-back run (exit 64)


def test_a_failed_run_may_resume() -> None:
    with pytest.raises(StepFailed) as caught:
        runbook_run.finish(report("step 'restore' failed: x"), Output(), drill=False)
    assert "runbook resume 7" in caught.value.hint


def test_a_rejected_run_says_rejected_and_claims_no_rto(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(StepFailed):
        runbook_run.finish(
            report("step 'go' failed: rejected by bob: not now", step="go"), Output(), drill=False
        )
    said = capsys.readouterr().out
    assert "rejected at step go: rejected by bob: not now" in said
    assert "RTO" not in said and "failed in" not in said


def test_a_failed_run_does_not_claim_a_missed_rto(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(StepFailed):
        runbook_run.finish(report("step 'restore' failed: x"), Output(), drill=False)
    said = capsys.readouterr().out
    assert "RTO 600s missed" not in said and "not measured" in said
