"""`drkit drill backup --policy NAME`: a restore test per repository, judged against the RTO.

The drill is :func:`drkit.services.drill.drill`; this module prints what was
restored, each step's duration, and the measured recovery time against the
policy's ``rto``. Exit 0 when every repository passed in
time, 32 when a restore test failed or could not run, 33 when all passed
but one was slower than the objective.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from drkit.cli.context import State
from drkit.cli.output import human_bytes, out
from drkit.cli.verify import (
    ScratchOption,
    StepLines,
    TimeoutOption,
    ValidateOption,
    restore_options,
    steps_table,
)
from drkit.policy.objectives import format_objective
from drkit.services.drill import DrillRequest, drill, drill_failure, seconds
from drkit.verify.drill import DrillEntry, DrillReport, DrillVerdict

drill_app = typer.Typer(name="drill", no_args_is_help=True, help="disaster-recovery drills")

_VERDICT_STYLE = {
    DrillVerdict.PASSED: ("PASSED", "green"),
    DrillVerdict.FAILED: ("FAILED", "red"),
    DrillVerdict.RTO_MISSED: ("RTO MISSED", "red"),
}


def register(app: typer.Typer) -> None:
    app.add_typer(drill_app, name="drill", help="disaster-recovery drills")


@drill_app.command("backup")
def backup(
    ctx: typer.Context,
    policy: Annotated[str, typer.Option(help="the policy to drill")],
    repository: Annotated[
        str | None, typer.Option(help="only this repository of the policy (default: all)")
    ] = None,
    snapshot: Annotated[
        str | None,
        typer.Option(help="snapshot id prefix (default: the policy's newest snapshot)"),
    ] = None,
    validate: ValidateOption = None,
    scratch: ScratchOption = None,
    timeout: TimeoutOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Restore a policy's newest snapshot from its repositories and measure the RTO."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    request = DrillRequest(
        policy,
        repository=repository,
        snapshot=snapshot,
        options=restore_options(validate, scratch, timeout),
    )
    with output.progress() as progress:
        report = drill(state.use(), request, progress=StepLines(progress, output))
    output.render(report, _render)
    failure = drill_failure(report)
    if failure is not None:
        raise failure


def _objective(report: DrillReport) -> str:
    return format_objective(report.objective) if report.objective else "not set"


def _render(report: DrillReport) -> None:
    out.print(
        Text.assemble(
            ("drill ", "bold"), (report.policy, "bold"), f": RTO objective {_objective(report)}"
        )
    )
    for entry in report.entries:
        _render_entry(entry)
    out.print(_summary_table(report))
    label, style = _VERDICT_STYLE[report.verdict]
    measured = report.measured_rto_s
    out.print(
        Text.assemble(
            (label, style),
            f" measured RTO {seconds(measured) if measured is not None else '-'} "
            f"against an objective of {_objective(report)}",
        )
    )


def _render_entry(entry: DrillEntry) -> None:
    out.print(Text(f"\n{entry.repository} {entry.source}".rstrip(), "bold"))
    if entry.result is None:
        out.print(Text.assemble(("could not run: ", "red"), entry.error))
        return
    for p in entry.result.problems:
        out.print(Text.assemble(("problem: ", "red"), f"{p.path}: {p.reason}"))
    out.print(steps_table(entry.result))


def _summary_table(report: DrillReport) -> Table:
    table = Table(box=None, padding=(0, 2))
    for col in ("repository", "source", "snapshot", "restored", "recovery time", "verdict"):
        table.add_column(col)
    for e in report.entries:
        r = e.result
        label, style = _VERDICT_STYLE[e.verdict]
        table.add_row(
            Text(e.repository),
            Text(", ".join(e.proved) or "-"),
            f"{r.snapshot_id[:8]} ({r.snapshot_time:%Y-%m-%d %H:%M})" if r else "-",
            f"{r.files} files, {human_bytes(r.bytes)}" if r else "-",
            seconds(r.rto_s) if r else "-",
            Text(label, style),
        )
    return table
