"""`drkit status`: the 3-2-1 evaluation of every policy's sources."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.policy.compliance import Compliance
from drkit.policy.objectives import format_objective
from drkit.tablefit import Column, FittedTable

if TYPE_CHECKING:
    from drkit.monitor.facts import RepositoryFacts


def register(app: typer.Typer) -> None:
    app.command()(status)


def status(
    ctx: typer.Context,
    policy: Annotated[str | None, typer.Option(help="only this policy")] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Per policy and source: 3-2-1, RPO, verified age, last check and restore test, alerts."""
    from drkit.services.status import status_report

    state: State = ctx.obj
    now = datetime.now(UTC)
    report = status_report(
        state.workspace_read(), [policy] if policy else None, now, state.open_named
    )
    if json_output:
        print_json(report.to_json())
        return
    for entry in report.policies:
        for verdict in entry.verdicts:
            _print(entry.policy, verdict, entry.watched)
    _print_control_plane(state)
    _print_alerts(state)


def _print_control_plane(state: State) -> None:
    from drkit.services.control_plane import control_plane_status

    cp = control_plane_status(state.settings)
    if cp is not None:
        color = "red" if cp.error or cp.active is None else "green"
        out.print(f"[bold]control plane[/] {cp.cluster}: [{color}]{cp.sentence()}[/]")


def _print_alerts(state: State) -> None:
    from drkit.services.status import open_alerts

    alerts = open_alerts(state.workspace_read())
    if alerts:
        out.print(f"[red]{len(alerts)} open alert(s)[/] (`drkit alerts`):")
    for a in alerts:
        out.print(f"  {a.severity}: {a.summary} [dim]({a.source})[/]")


STATUS_COLUMNS = (
    Column("repository", key=True),
    Column("media", priority=4),
    Column("site", priority=3),
    Column("newest snapshot", key=True),
    Column("age", priority=1),
    Column("counts", wrap=True, priority=1),
    Column("verified age", priority=2),
    Column("last check", priority=2),
    Column("last restore test", priority=3),
)
"""At 80 columns the repository and its newest snapshot stay whole; the site, media and
last restore test go first (``--json`` has everything)."""


def _print(policy: str, c: Compliance, watched: dict[str, RepositoryFacts]) -> None:
    mark = "[green]OK[/]" if c.ok else "[red]FAILING[/]"
    out.print(
        f"[bold]{policy}[/] {c.source}: {mark}  {c.copies} copies, media "
        f"{'/'.join(c.media)}, off-site: {', '.join(c.offsite) or 'none'}"
    )
    table = FittedTable(STATUS_COLUMNS)
    for v in c.verdicts:
        newest = f"{v.copy.newest:%Y-%m-%d %H:%M}" if v.copy.newest else "-"
        age = format_objective(v.age) if v.age is not None else "-"
        table.add_row(
            v.copy.repository,
            v.copy.media,
            v.copy.site,
            newest,
            age,
            "yes" if v.counts else f"no: {v.why}",
            *_watched_cells(watched.get(v.copy.repository), c.source, v.copy.newest),
        )
    out.print(table)
    for v in c.verdicts:
        if v.copy.recovery:  # a physical source: how far base backup + WAL recover
            out.print(f"  {v.copy.repository}: {v.copy.recovery}", markup=False)
    for rule in c.failures():
        out.print(f"  [red]{rule.rule.value} fails:[/] {rule.detail}")


def _watched_cells(
    facts: RepositoryFacts | None, source: str, newest: datetime | None
) -> tuple[str, str, str]:
    if facts is None:
        return "-", "-", "-"
    now = datetime.now(UTC)
    verified = format_objective(now - facts.newest_verified) if facts.newest_verified else "none"
    check = facts.last_check
    checked = f"{'ok' if check.ok else 'FAILED'} {check.time:%Y-%m-%d %H:%M}" if check else "never"
    return verified, checked, _restore_cell(facts, source, newest)


def _restore_cell(facts: RepositoryFacts, source: str, newest: datetime | None) -> str:
    """This source's restore evidence: "ok" only for a passed test of a source with snapshots."""
    from drkit.monitor.facts import RestoreState
    from drkit.services.status import restore_state

    state = restore_state(facts, source, newest)
    restore = facts.restore_of(source)
    test = restore.last if restore is not None else None
    if state is RestoreState.OK and test is not None:
        return f"ok in {test.duration_s:.2f}s"
    if state is RestoreState.FAILED:
        return "FAILED"
    return state.value
