"""`drkit runbook run|resume|rerun|cancel|approve|reject`: running runbooks, and talking to runs.

A run prints each step as it goes (stderr) and a summary at the end (or the
report as JSON with --json). Exit codes: 61 when a step failed the run, 62
when a drill succeeded but took longer than the runbook's RTO, 63 when the
run was cancelled. With DRKIT_RUN_ID set (the daemon) the steps are written
into that run, which the daemon finishes.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import Output, err, out
from drkit.cli.runbook_common import (
    Progress,
    export_config,
    load_current,
    parse_inputs,
    styled,
    version_loader,
)
from drkit.cli.runbook_signin import (
    NO_CREDENTIALS_HINT,
    PasswordStdinOption,
    SignInOptions,
    TokenFileOption,
    UserOption,
    origin,
)
from drkit.cli.runbook_start import print_plan, run_request, start
from drkit.errors import UsageError

if TYPE_CHECKING:
    from drkit.runbooks.service import RunKind, RunReport


class RollbackChoice(StrEnum):
    DEFAULT = "default"
    ALWAYS = "always"
    NEVER = "never"
    DEVIATED = "deviated"


InputOption = Annotated[
    list[str] | None, typer.Option("--input", "-i", help="NAME=VALUE (repeatable)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print the run's report as JSON")]
ByOption = Annotated[
    str | None, typer.Option("--by", hidden=True, help="no longer names the approver")
]


def attach(app: typer.Typer) -> None:
    for command in (run, resume, rerun, cancel, approve, reject):
        app.command(command.__name__)(command)


def run(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="runbook name (in runbooks.dir)")] = None,
    inputs: InputOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show what would run; run nothing")
    ] = False,
    drill: Annotated[bool, typer.Option("--drill", help="a drill: exit 62 past the RTO")] = False,
    chaostoolkit: Annotated[
        Path | None, typer.Option("--chaostoolkit", help="run a Chaos Toolkit experiment file")
    ] = None,
    journal: Annotated[
        Path | None, typer.Option("--journal", help="with --chaostoolkit: write its journal here")
    ] = None,
    rollback_strategy: Annotated[
        RollbackChoice,
        typer.Option(help="with --chaostoolkit: when rollbacks run (as `chaos run`)"),
    ] = RollbackChoice.DEFAULT,
    json_output: JsonOption = False,
    token_file: TokenFileOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Run a runbook, journaled step by step in the catalog.

    Manual steps are approved signed in (`drkit runbook approve`, or at this terminal);
    a runbook with a not_by_starter step needs its starter signed in as well.
    """
    state: State = ctx.obj
    output = state.output_for(json_output)
    if chaostoolkit is not None:
        from drkit.cli.runbook_chaos import run_experiment

        run_experiment(
            state, chaostoolkit, journal, dry_run=dry_run, output=output,
            rollback_strategy=rollback_strategy.value,
        )  # fmt: skip
        return
    if name is None:
        raise UsageError("name a runbook to run", hint="`drkit runbook list` shows them")
    loaded = load_current(state, name)
    given = parse_inputs(inputs or [])
    if dry_run:
        print_plan(loaded.runbook, given, output)
        return
    sign_in = SignInOptions(token_file, user, password_stdin)
    report = start(state, loaded.runbook, given, drill=drill, output=output, sign_in=sign_in)
    finish(report, output, drill=drill)


def finish(report: RunReport, output: Output, *, drill: bool) -> None:
    """Print the outcome; raise the error whose exit code says how the run ended."""
    from drkit.catalog.runs import RunStatus
    from drkit.runbooks.errors import RtoExceeded, RunCancelled, StepFailed

    output.render(report, _summary)
    if report.status is RunStatus.CANCELLED:
        raise RunCancelled(f"run {report.run_id} was cancelled: {report.error}")
    if report.status is not RunStatus.SUCCEEDED:
        raise StepFailed(f"run {report.run_id} failed: {report.error}", hint=_next_move(report))
    if report.rto_met is False and (drill or report.kind == "drill"):
        raise RtoExceeded(
            f"drill run {report.run_id} took {report.recovery_s:.1f}s, "
            f"longer than the RTO of {report.rto_s:g}s"
        )


def _next_move(report: RunReport) -> str:
    """A hint that works: a rolled-back run cannot be resumed, only re-run."""
    shown = f"`drkit runs show {report.run_id}` shows the journal"
    step = report.failed_step or "STEP"
    rerun = f"`drkit runbook rerun {report.run_id} --from {step}`"
    if report.rolled_back:
        return f"{shown}; the run was rolled back: fix the cause, then {rerun}"
    return f"{shown}; fix the cause, then `drkit runbook resume {report.run_id}` or {rerun}"


def _summary(report: RunReport) -> None:
    from drkit.catalog.runs import RunStatus

    took = f"{report.recovery_s:.1f}s" if report.recovery_s is not None else "?"
    rto = ""
    if report.rto_s is not None and report.status is RunStatus.SUCCEEDED:
        verdict = "[green]met[/]" if report.rto_met else "[red]missed[/]"
        rto = f", RTO {report.rto_s:g}s {verdict}"
    elif report.rto_s is not None:  # a run that did not recover measured no recovery time
        rto = f" (no recovery, RTO {report.rto_s:g}s not measured)"
    if report.error and "rejected by" in report.error:  # a decision, not a failed recovery
        why = report.error[report.error.index("rejected by") :]
        at = f" at step {report.failed_step}" if report.failed_step else ""
        out.print(f"run {report.run_id} {styled('rejected')}{at}: {why}")
        return
    back = " (rolled back)" if report.rolled_back else ""
    out.print(f"run {report.run_id} {styled(report.status.value)}{back} in {took}{rto}")


def resume(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="the run to go on with")],
    json_output: JsonOption = False,
    token_file: TokenFileOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Go on with a stopped run (killed, failed or cancelled) at its first unfinished step."""
    from drkit.runbooks.service import resume_run

    state: State = ctx.obj
    output = state.output_for(json_output)
    export_config(state)
    sign_in = SignInOptions(token_file, user, password_stdin)
    request = run_request(state, None, {}, _kind_of(state, run_id), output, sign_in)
    report = resume_run(
        state.catalog(), run_id, version_loader(state), state.settings, request, Progress(output)
    )
    finish(report, output, drill=report.kind == "drill")


def rerun(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="the run to start again")],
    from_step: Annotated[str, typer.Option("--from", help="top-level step to start from")],
    inputs: InputOption = None,
    json_output: JsonOption = False,
    token_file: TokenFileOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Start a new run of the same runbook version from a step, reusing earlier outputs."""
    from drkit.catalog.runs import get_run
    from drkit.runbooks.service import rerun as rerun_run

    state: State = ctx.obj
    output = state.output_for(json_output)
    export_config(state)
    sign_in = SignInOptions(token_file, user, password_stdin)
    view = get_run(state.catalog(), run_id)
    book = version_loader(state)(view.subject, view.subject_version or "")
    given = parse_inputs(inputs or [])
    request = run_request(state, book, given, _kind_of(state, run_id), output, sign_in)
    report = rerun_run(
        state.catalog(), run_id, from_step, version_loader(state), state.settings, request,
        Progress(output),
    )  # fmt: skip
    finish(report, output, drill=report.kind == "drill")


def _kind_of(state: State, run_id: int) -> RunKind:
    from drkit.catalog.runs import get_run
    from drkit.runbooks.service import KINDS, RunKind

    kind = get_run(state.catalog(), run_id).kind
    return RunKind(kind) if kind in KINDS else RunKind.RUNBOOK


def cancel(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="the running run")],
    token_file: TokenFileOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    by: ByOption = None,
) -> None:
    """Stop a running runbook, signed in as a user with the runbooks permission.

    Its current step is interrupted, nothing further runs; the run names who cancelled.
    """
    from drkit.services.runbook_approval import cancel_with

    if by is not None:
        raise UsageError(
            "--by no longer says who cancels: sign in as yourself", hint=NO_CREDENTIALS_HINT
        )
    state: State = ctx.obj
    sign_in = SignInOptions(token_file, user, password_stdin)
    said = cancel_with(state.workspace_read(), sign_in.required(), origin(), run_id)
    out.print(said)


def approve(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="the run")],
    step: Annotated[str, typer.Argument(help="the waiting manual step")],
    comment: Annotated[str, typer.Option(help="why (kept in the journal)")] = "",
    token_file: TokenFileOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    by: ByOption = None,
) -> None:
    """Approve a manual step that is waiting, signed in as a user with the approve permission."""
    _decide(ctx, run_id, step, comment, SignInOptions(token_file, user, password_stdin), by,
            approve=True)  # fmt: skip


def reject(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="the run")],
    step: Annotated[str, typer.Argument(help="the waiting manual step")],
    comment: Annotated[str, typer.Option(help="why (kept in the journal)")] = "",
    token_file: TokenFileOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    by: ByOption = None,
) -> None:
    """Reject a manual step that is waiting (signed in); the step fails, its on_failure applies."""
    _decide(ctx, run_id, step, comment, SignInOptions(token_file, user, password_stdin), by,
            approve=False)  # fmt: skip


def _decide(
    ctx: typer.Context,
    run_id: int,
    step: str,
    comment: str,
    sign_in: SignInOptions,
    by: str | None,
    *,
    approve: bool,
) -> None:
    from drkit.services.runbook_approval import decide_with

    if by is not None:
        raise UsageError(
            "--by no longer says who approves: the approver signs in",
            hint=NO_CREDENTIALS_HINT,
        )
    state: State = ctx.obj
    decided = decide_with(state.workspace_read(), sign_in.required(), origin(), run_id, step,
                          approve=approve, comment=comment)  # fmt: skip
    if not state.output.quiet:
        err.print(f"{decided.verdict.value} step {step} of run {run_id} as {decided.user}")
