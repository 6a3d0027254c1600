"""`drkit notify list|test`: the notification backends of drkit.yaml, and a test message.

The work is :mod:`drkit.services.notifiers`; this module parses the options
and renders the result (a table or ``--json``).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from drkit.cli.context import State
from drkit.cli.output import Output, WarningProgress, err, out
from drkit.notify.base import Severity
from drkit.services import notifiers as service
from drkit.services.notifiers import NotifierList, TrialRequest, TrialResult

app = typer.Typer(no_args_is_help=True)


def register(main: typer.Typer) -> None:
    main.add_typer(
        app, name="notify", help="notification backends: list them, send a test notification"
    )


@app.command("list")
def list_notifiers(
    ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List the notifiers of drkit.yaml: type, where they deliver, and whether they can be built."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    output.render(service.list_notifiers(state.use()), _print_list)


def _print_list(listing: NotifierList) -> None:
    if not listing.rows:
        out.print("no notifiers; add a 'notifiers:' section to drkit.yaml (docs/notifications.md)")
        return
    table = Table(box=None, padding=(0, 2))
    for column in ("name", "type", "target", "status"):
        table.add_column(column)
    for row in listing.rows:
        status = "ready" if row.ok else f"[red]{row.problem}[/]"
        table.add_row(row.name, row.type, row.target, status)
    out.print(table)


@app.command("test")
def test_notifiers(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="the notifier to try")] = None,
    all_: Annotated[bool, typer.Option("--all", help="try every configured notifier")] = False,
    severity: Annotated[Severity, typer.Option(help="severity of the test")] = Severity.INFO,
    resolve: Annotated[
        bool, typer.Option("--resolve", help="then resolve it (closes a test incident)")
    ] = False,
    retries: Annotated[int, typer.Option(min=0, help="retries of a transient failure")] = 1,
    timeout: Annotated[float, typer.Option(min=0.1, help="seconds for all deliveries")] = 30.0,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send a test notification through one notifier (or --all) and show each delivery."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    request = TrialRequest(name, all_, severity, resolve, retries, timeout)
    result = service.try_notifiers(state.use(), request, PhaseLines(output))
    output.render(result, _print)
    failure = result.failure()
    if failure is not None:
        raise failure


class PhaseLines(WarningProgress):
    """Each phase as a line on stderr ("sending a test trigger to 2 notifier(s)..."), as text."""

    def __init__(self, output: Output) -> None:
        self.show = output.text

    def phase(self, name: str) -> None:
        if self.show:
            err.print(f"{name}...")


def _print(result: TrialResult) -> None:
    table = Table(box=None, padding=(0, 2))
    for column in ("notifier", "event", "result", "attempts", "time"):
        table.add_column(column)
    for one in result.deliveries:
        d = one.delivery
        shown = "[green]delivered[/]" if d.ok else "[red]FAILED[/]"
        took = f"{d.duration_s:.2f} s"
        table.add_row(d.notifier, one.event.action.value, shown, str(d.attempts), took)
    out.print(table)
    for one in result.deliveries:
        d = one.delivery
        if d.error:
            out.print(f"[red]{d.notifier}[/] ({one.event.action.value}): {d.error}")
