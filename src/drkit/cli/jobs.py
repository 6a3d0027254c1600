"""`drkit jobs`: what the daemon schedules; `drkit run-job`: one of them now (services/jobs.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.tablefit import Column, FittedTable


def register(app: typer.Typer) -> None:
    app.command()(jobs)
    app.command("run-job")(run_job)


def jobs(ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the scheduled jobs: schedule, next start, last run."""
    from drkit.catalog.types import utcnow
    from drkit.services.jobs import job_rows

    state: State = ctx.obj
    rows = job_rows(state.workspace_read(), utcnow())
    if json_output:
        print_json(rows)
        return
    table = FittedTable(
        (
            Column("Job", key=True),
            Column("Schedule", priority=1),
            Column("Next (UTC)", key=True),
            Column("Last slot", priority=2),
        )
    )
    for row in rows:
        last = row["last_slot"]
        table.add_row(
            str(row["job"]),
            str(row["schedule"]),
            f"{row['next']:%Y-%m-%d %H:%M}",
            f"{last:%Y-%m-%d %H:%M}" if isinstance(last, datetime) else "-",
        )
    out.print(table if rows else "no scheduled jobs: add schedules to drkit.yaml")


def run_job(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="a job id from `drkit jobs`")],
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run one scheduled job now, journaled and recorded like a scheduled run."""
    from drkit.services import jobs as service

    state: State = ctx.obj
    workspace = state.workspace_read()
    result = service.run_job(workspace, service.find_job(workspace, job_id))
    if json_output:
        print_json(result.to_json())
    else:
        out.print(f"run {result.run}: {result.status.value} (`drkit runs show {result.run}`)")
    if result.failure() is not None:
        raise typer.Exit(1)
