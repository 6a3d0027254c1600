"""Starting a runbook run from the CLI, and its dry-run plan (for `run` and --chaostoolkit)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from drkit.cli.context import State
from drkit.cli.output import Output, err, out, print_json, warn
from drkit.cli.runbook_common import Progress, export_config
from drkit.cli.runbook_signin import SignInOptions, ask_password, origin
from drkit.errors import DrkitError

if TYPE_CHECKING:
    from drkit.runbooks.context import ApprovalPrompt
    from drkit.runbooks.model import Runbook
    from drkit.runbooks.plan import PlanItem
    from drkit.runbooks.service import RunKind, RunReport, RunRequest
    from drkit.services.runbook_approval import Credentials


def start(
    state: State,
    runbook: Runbook,
    given: dict[str, str],
    *,
    drill: bool,
    output: Output,
    sign_in: SignInOptions | None = None,
) -> RunReport:
    from drkit.runbooks.service import RunKind, start_run

    export_config(state)
    kind = RunKind.DRILL if drill else RunKind.RUNBOOK
    request = run_request(state, runbook, given, kind, output, sign_in)
    return start_run(state.catalog(), runbook, state.settings, request, Progress(output))


def run_request(
    state: State,
    runbook: Runbook | None,
    given: dict[str, str],
    kind: RunKind,
    output: Output,
    sign_in: SignInOptions | None,
) -> RunRequest:
    """How to run ``runbook`` (None: a resume, whose starter is known): with the starter
    signed in when credentials are given (or the runbook's not_by_starter needs it), and
    a terminal prompt whose answers are signed in too."""
    from drkit.runbooks.approvals import needs_signed_in_starter
    from drkit.runbooks.service import RunRequest
    from drkit.services.runbook_approval import SignInFailed
    from drkit.services.runbook_approval import sign_in as check

    existing = os.environ.get("DRKIT_RUN_ID")
    trigger = "schedule" if existing else "manual"
    interactive = sys.stdin.isatty() and not output.json
    needed = trigger == "manual" and runbook is not None and needs_signed_in_starter(runbook)
    signed = (sign_in or SignInOptions()).given(ask=needed) if trigger == "manual" else None
    starter = None
    if signed is not None:
        try:
            starter = check(state.workspace, signed, origin()).user
        except SignInFailed as exc:
            if needed or sign_in is None or sign_in.explicit:
                raise
            warn(f"not signed in ($DRKIT_TOKEN): {exc.message}")  # not needed to start
            signed = None
    prompt = _terminal_prompt(state, signed) if interactive else None
    return RunRequest(
        given,
        kind,
        trigger,
        prompt,
        existing_run_id=int(existing) if existing else None,
        started_by=starter,
    )


def _terminal_prompt(state: State, signed: Credentials | None) -> ApprovalPrompt:
    """Ask at the terminal, then decide signed in (the starter's credentials, or a password
    asked for now); another operator may approve meanwhile (`drkit runbook approve`)."""

    def ask(run_id: int, step: str, prompt: str) -> None:
        from drkit.runbooks.errors import ApprovalRefused
        from drkit.services.runbook_approval import decide_with

        while True:
            try:
                answer = input(f"\n{step}: {prompt}\napprove? [y/N] (or approve from elsewhere) ")
                approve = answer.strip().lower() in ("y", "yes")
                credentials = signed or ask_password()
            except EOFError:
                return
            try:
                decide_with(state.workspace, credentials, origin(), run_id, step,
                            approve=approve, comment="answered at the terminal")  # fmt: skip
                return
            except DrkitError as exc:
                err.print(f"[red]error:[/] {exc.message}", highlight=False)
                if not isinstance(exc, ApprovalRefused) or signed is not None:
                    return  # decided elsewhere meanwhile, or the same credentials again

    return ask


def print_plan(runbook: Runbook, given: dict[str, str], output: Output) -> None:
    """--dry-run: every step with what it would do; nothing runs, nothing is journaled."""
    from drkit.runbooks.plan import plan
    from drkit.runbooks.service import resolve_inputs

    items = plan(runbook, resolve_inputs(runbook, given))
    if output.json:
        print_json({"runbook": runbook.name, "version": runbook.version,
                    "steps": [i.as_json() for i in items]})  # fmt: skip
        return
    out.print(f"dry run of {runbook.name} (version {runbook.version}): nothing is run")
    for item in items:
        _print_item(item, "")


def _print_item(item: PlanItem, indent: str) -> None:
    extra = f"  [dim]({'; '.join(item.conditions)})[/]" if item.conditions else ""
    manual = "[magenta]manual[/] " if item.kind.value == "manual" else ""
    out.print(f"{indent}{item.number}. [bold]{item.step.id}[/] {manual}{item.does}{extra}")
    for member in item.members:
        _print_item(member, indent + "   ")
    for undo in item.rollback:
        out.print(f"{indent}   rollback {undo.number}: {undo.step.id} {undo.does}")
