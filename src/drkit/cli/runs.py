"""`drkit runs` and `drkit runs show ID`: what drkit did, with each step's timings."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from drkit.cli.context import State
from drkit.cli.output import out
from drkit.services import runs as services
from drkit.services.runs import RunList
from drkit.tablefit import Column, FittedTable

if TYPE_CHECKING:
    from drkit.catalog.views import RunView

app = typer.Typer()


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="runs", help="what drkit did: runs and their step journals")


class StatusChoice(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"


_STYLE = {"succeeded": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}


@app.callback(invoke_without_command=True)
def runs(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option(help="only runs of this kind (backup, check...)")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="only runs about this policy/runbook")] = None,
    status: Annotated[StatusChoice | None, typer.Option(help="only runs with this status")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List runs (backups, checks, restore tests, drills, runbooks), newest first; times in UTC."""
    if ctx.invoked_subcommand is not None:
        return
    from drkit.catalog.views import RunStatus

    state: State = ctx.obj
    output = state.output_for(json_output)
    wanted = RunStatus(status.value) if status else None
    found = services.list_runs(state.use(), kind=kind, subject=subject, status=wanted, limit=limit)
    output.render(found, _print_runs)


def _print_runs(found: RunList) -> None:
    views = found.runs
    table = FittedTable(RUN_COLUMNS)
    for v in views:
        table.add_row(
            str(v.id),
            v.job or f"{v.kind}:{v.subject}",
            v.trigger,
            _status(v.status.value),
            f"{v.started_at:%m-%d %H:%M}",
            _duration(v.duration_s),
        )
    out.print(table if views else "no runs yet")


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="the run's id (see `drkit runs`)")],
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a run's journal: every step with its status, timings, output and error."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    output.render(services.get_run(state.use(), run_id), _print_run)


def _print_run(view: RunView) -> None:
    out.print(
        f"run {view.id}: {view.kind} {view.subject} ({view.trigger}) {_status(view.status.value)}"
        f" in {_duration(view.duration_s)}"
    )
    if view.error:
        out.print(f"[red]error:[/] {view.error}")
    table = FittedTable(STEP_COLUMNS)
    for step in view.steps:
        table.add_row(
            str(step.seq),
            step.name,
            _status(step.status.value),
            f"{step.started_at:%H:%M:%S}",
            _duration(step.duration_s),
            step.error or "",
        )
    out.print(table)
    _print_approvals(view.result)


def _print_approvals(result: dict[str, Any]) -> None:
    """A runbook run's starter and every decision on its manual steps, refusals too."""
    if result.get("started_by"):
        out.print(f"started by {result['started_by']}", markup=False)
    for entry in result.get("approvals", []):
        out.print(approval_line(entry), markup=False, highlight=False, soft_wrap=True)


def approval_line(entry: dict[str, Any]) -> str:
    """One entry of a run's ``approvals`` as a line: when, step, verdict, who, and why."""
    at = str(entry.get("at", ""))[:19].replace("T", " ")
    line = f"{at} step {entry.get('step')}: {entry.get('verdict')} by {entry.get('user')}"
    line += f" ({entry.get('via')})"
    if entry.get("reason"):
        line += f": {entry['reason']}"
    if entry.get("comment"):
        line += f" - {entry['comment']}"
    return line


RUN_COLUMNS = (
    Column("ID", key=True, justify="right"),
    Column("What", key=True),  # the job id, or kind and subject of a manual run
    Column("Trigger", priority=2),
    Column("Status", priority=1),
    Column("Started", key=True),
    Column("Duration", priority=1),
)
STEP_COLUMNS = (
    Column("#", key=True, justify="right"),
    Column("Step", key=True),
    Column("Status", priority=1),
    Column("Started", key=True),
    Column("Duration", priority=2),
    Column("Error", wrap=True, priority=1),
)


def run_json(view: RunView) -> dict[str, Any]:
    """A run's JSON (its ``to_json()``), for the tests' runbook helpers."""
    return view.to_json()


def _status(status: str) -> str:
    style = _STYLE.get(status, "white")
    return f"[{style}]{status}[/]"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"
