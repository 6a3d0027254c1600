"""`drkit runbook guide|stats`: the recovery guide, and recovery times against the RTO."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.cli.runbook_common import load_current, styled
from drkit.runbooks.expected import DEFAULT_LAST
from drkit.tablefit import Column, FittedTable


def attach(app: typer.Typer) -> None:
    app.command("guide")(guide)
    app.command("stats")(stats)


def guide(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="runbook name")],
    html_file: Annotated[Path | None, typer.Option("--html", help="also write HTML here")] = None,
    markdown_file: Annotated[
        Path | None, typer.Option("--markdown", help="write the Markdown here")
    ] = None,
    last: Annotated[int, typer.Option(help="past runs for the expected durations")] = DEFAULT_LAST,
) -> None:
    """A numbered step-by-step recovery guide, with manual steps, expected durations and the RTO."""
    from drkit.runbooks import guide as render
    from drkit.runbooks.stats import collect

    state: State = ctx.obj
    book = load_current(state, name).runbook
    timings = collect(state.catalog(), name, last=last)
    text = render.markdown(book, timings.expected())
    if html_file is not None:
        html_file.write_text(render.to_html(book, text), encoding="utf-8")
    if markdown_file is not None:
        markdown_file.write_text(text, encoding="utf-8")
    if html_file is None and markdown_file is None:
        if sys.stdout.isatty():
            from rich.markdown import Markdown  # 50 ms of imports: only when rendering

            out.print(Markdown(text))
        else:
            sys.stdout.write(text)


def stats(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="runbook name")],
    last: Annotated[int, typer.Option(help="how many of the newest runs")] = DEFAULT_LAST,
    drills: Annotated[bool, typer.Option("--drills", help="only drills")] = False,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recovery time of the last runs, in total and per step, against the RTO; and the trend."""
    from drkit.runbooks.service import KINDS
    from drkit.runbooks.stats import collect

    state: State = ctx.obj
    book = load_current(state, name).runbook
    rto = book.rto.total_seconds() if book.rto else None
    kinds = ("drill",) if drills else KINDS
    found = collect(state.catalog(), name, last=last, kinds=kinds, rto_s=rto)
    output = state.output_for(json_output)
    if output.json:
        print_json(found.as_json())
        return
    median = found.median_total_s
    left_out = len(found.runs) - found.counted_runs
    out.print(
        f"{name}: RTO {f'{rto:g}s' if rto else 'not set'}, median {_s(median)}, "
        f"trend [bold]{found.trend.value}[/] over {found.counted_runs} full runs"
        + (f" ({left_out} failed or partial not counted)" if left_out else "")
    )
    steps = [s.id for s in book.steps]
    table = FittedTable([*STATS_COLUMNS, *(Column(step, priority=5) for step in steps)])
    for timing in found.runs:
        verdict = {True: "[green]met[/]", False: "[red]missed[/]", None: "-"}[timing.rto_met]
        per_step = [_s(timing.steps.get(step)) for step in steps]
        status = styled(timing.status.value)
        if timing.partial:
            status += f" (partial, from {timing.from_step})"
        table.add_row(
            str(timing.run_id), timing.kind, f"{timing.started_at:%Y-%m-%d %H:%M}",
            status, _s(timing.total_s), verdict, *per_step,
        )  # fmt: skip
    out.print(table)


STATS_COLUMNS = (
    Column("Run", key=True, justify="right"),
    Column("Kind", priority=4),
    Column("Started", key=True),
    Column("Status", wrap=True, priority=1),
    Column("Total", key=True),
    Column("RTO", priority=2),
)
"""Then a column per top-level step: those go first at 80 columns, the rightmost first."""


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}s"
