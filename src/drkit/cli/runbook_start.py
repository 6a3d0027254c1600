"""Starting a runbook run from the CLI, and its dry-run plan (for `run` and --chaostoolkit)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.cli.runbook_common import Progress, export_config

if TYPE_CHECKING:
    from drkit.runbooks.model import Runbook
    from drkit.runbooks.plan import PlanItem
    from drkit.runbooks.service import RunKind, RunReport, RunRequest


def start(
    state: State, runbook: Runbook, given: dict[str, str], *, drill: bool, json_output: bool
) -> RunReport:
    from drkit.runbooks.service import RunKind, start_run

    export_config(state)
    request = run_request(given, RunKind.DRILL if drill else RunKind.RUNBOOK, json_output)
    return start_run(state.catalog(), runbook, state.settings, request, Progress(state.quiet))


def run_request(given: dict[str, str], kind: RunKind, json_output: bool) -> RunRequest:
    from drkit.runbooks.service import RunRequest

    existing = os.environ.get("DRKIT_RUN_ID")
    trigger = "schedule" if existing else "manual"
    prompt = _ask if sys.stdin.isatty() and not json_output else None
    return RunRequest(
        given, kind, trigger, prompt, existing_run_id=int(existing) if existing else None
    )


def _ask(step: str, prompt: str) -> bool | None:
    """Ask at the terminal; another operator may approve meanwhile (`drkit runbook approve`)."""
    try:
        answer = input(f"\n{step}: {prompt}\napprove? [y/N] (or approve from elsewhere) ")
    except EOFError:
        return None
    return answer.strip().lower() in ("y", "yes")


def print_plan(runbook: Runbook, given: dict[str, str], json_output: bool) -> None:
    """--dry-run: every step with what it would do; nothing runs, nothing is journaled."""
    from drkit.runbooks.plan import plan
    from drkit.runbooks.service import resolve_inputs

    items = plan(runbook, resolve_inputs(runbook, given))
    if json_output:
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
