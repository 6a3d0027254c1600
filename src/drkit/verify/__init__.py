"""Verification: rotating read checks, restore tests and backup drills.

- :mod:`~drkit.verify.subset` - the read-data rotation (plan and run) and its ledger protocol;
  :mod:`~drkit.verify.ledger_memory` and :mod:`~drkit.verify.ledger_catalog` implement the ledger.
- :mod:`~drkit.verify.restore_test` - restore, read back, validate, time, clean up;
  built from :mod:`~drkit.verify.snapshot_choice`, :mod:`~drkit.verify.readback`,
  :mod:`~drkit.verify.validation`, :mod:`~drkit.verify.scratch` and :mod:`~drkit.verify.steps`.
- :mod:`~drkit.verify.drill` - a restore test per repository of a policy, judged against its RTO.

Only the catalog ledger touches the catalog: state comes in through small
interfaces (the ledger, step hooks) and results go out as frozen dataclasses.
"""

from drkit.verify.drill import DrillEntry, DrillReport, DrillVerdict, run_drill
from drkit.verify.errors import RestoreTestFailed, RtoMissed, ScratchUnavailable
from drkit.verify.readback import FileProblem
from drkit.verify.restore_test import RestoreTestResult, RestoreTestSpec, run_restore_test
from drkit.verify.snapshot_choice import SnapshotChoice
from drkit.verify.steps import StepHooks, StepKind, StepResult, StepStart
from drkit.verify.subset import (
    Budget,
    PackCheckLedger,
    PackCheckResult,
    PackInfo,
    PackStatus,
    Rotation,
    SubsetCheckResult,
    plan_rotation,
    run_subset_check,
)
from drkit.verify.validation import ValidationCommand

__all__ = [
    "Budget",
    "DrillEntry",
    "DrillReport",
    "DrillVerdict",
    "FileProblem",
    "PackCheckLedger",
    "PackCheckResult",
    "PackInfo",
    "PackStatus",
    "RestoreTestFailed",
    "RestoreTestResult",
    "RestoreTestSpec",
    "Rotation",
    "RtoMissed",
    "ScratchUnavailable",
    "SnapshotChoice",
    "StepHooks",
    "StepKind",
    "StepResult",
    "StepStart",
    "SubsetCheckResult",
    "ValidationCommand",
    "plan_rotation",
    "run_drill",
    "run_restore_test",
    "run_subset_check",
]
