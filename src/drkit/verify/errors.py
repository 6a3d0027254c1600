"""Errors of the verification domain: restore tests, drills and rotating read checks.

    DrkitError
    ├── RestoreTestFailed      exit 32  (a restore test or drill did not pass)
    ├── RtoMissed              exit 33  (it passed, but took longer than the RTO objective)
    ├── ScratchUnavailable     exit 34  (no usable scratch space: the test could not start)

Exit 34 means "the test environment is at fault, not the backup": an alert
rule can tell a broken restore (32) from a full scratch disk (34).
"""

from __future__ import annotations

from drkit.errors import DrkitError


class RestoreTestFailed(DrkitError):
    code = "restore-test-failed"
    exit_code = 32
    default_hint = (
        "the report names the step and the files; `drkit check --read-data` shows "
        "what is damaged in the repository"
    )


class RtoMissed(DrkitError):
    code = "rto-missed"
    exit_code = 33
    default_hint = (
        "the restore worked but was slower than the objective: restore from a faster "
        "repository, speed up the validation, or revise the policy's `rto`"
    )


class ScratchUnavailable(DrkitError):
    code = "scratch-unavailable"
    exit_code = 34
    default_hint = (
        "free space under the scratch root, or point the restore test elsewhere "
        "(--scratch, or restore_test.scratch in drkit.yaml)"
    )


VERIFY_ERRORS: tuple[type[DrkitError], ...] = (
    RestoreTestFailed,
    RtoMissed,
    ScratchUnavailable,
)
