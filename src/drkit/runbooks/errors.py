"""Errors of the runbook engine (exit codes 60-64).

DrkitError
└── RunbookError                 exit 60
    ├── RunbookInvalid           exit 60  (file:line problems, bad `when`, unknown action)
    ├── RunbookNotFound          exit 60
    ├── ActionFailed             exit 61  (raised by actions; the step fails)
    ├── StepFailed               exit 61  (the run ended because a step failed)
    ├── RtoExceeded              exit 62  (a drill finished later than its RTO)
    ├── RunCancelled             exit 63
    ├── RunNotResumable          exit 64  (finished run, other runbook version, ...)
    └── ApprovalRefused          exit 65  (the approver: not signed in, without the
                                          permission, not an approver of the step)
"""

from __future__ import annotations

from drkit.errors import DrkitError


class RunbookError(DrkitError):
    code = "runbook"
    exit_code = 60


class RunbookInvalid(RunbookError):
    code = "runbook-invalid"
    exit_code = 60
    default_hint = "fix the runbook file; `drkit runbook validate FILE` checks it"


class RunbookNotFound(RunbookError):
    code = "runbook-not-found"
    exit_code = 60
    default_hint = "`drkit runbook list` shows the runbooks in runbooks.dir"


class ActionFailed(RunbookError):
    """An action could not do its work; raised by actions, caught by the runner."""

    code = "action-failed"
    exit_code = 61


class StepFailed(RunbookError):
    code = "step-failed"
    exit_code = 61
    default_hint = (
        "`drkit runs show RUN_ID` shows the journal; fix the cause, then "
        "`drkit runbook resume RUN_ID` or `drkit runbook rerun RUN_ID --from STEP`"
    )


class RtoExceeded(RunbookError):
    code = "rto-exceeded"
    exit_code = 62
    default_hint = "`drkit runbook stats NAME` shows which steps take the time"


class RunCancelled(RunbookError):
    code = "run-cancelled"
    exit_code = 63
    default_hint = "`drkit runbook rerun RUN_ID --from STEP` starts again from a step"


class RunNotResumable(RunbookError):
    code = "run-not-resumable"
    exit_code = 64
    default_hint = "`drkit runbook rerun RUN_ID --from STEP` starts a new run from a chosen step"


class ApprovalRefused(RunbookError):
    """Who tried to approve or reject may not: a wrong password, an expired or revoked
    token, no ``approve`` permission, or a rule of the step (``approvers``,
    ``not_by_starter``). Nothing was decided."""

    code = "approval-refused"
    exit_code = 65
    default_hint = (
        "sign in as a user with the approve permission: DRKIT_TOKEN or --token-file with a "
        "token from `drkit user token add NAME`, or --user NAME for a password prompt"
    )


ALL_RUNBOOK_ERRORS: tuple[type[RunbookError], ...] = (
    RunbookError,
    RunbookInvalid,
    RunbookNotFound,
    ActionFailed,
    StepFailed,
    RtoExceeded,
    RunCancelled,
    RunNotResumable,
    ApprovalRefused,
)
