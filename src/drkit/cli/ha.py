"""`drkit ha status|pause|resume`: the HA cluster as etcd sees it, and maintenance mode."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from drkit.cli.context import State
from drkit.cli.output import out, print_json
from drkit.errors import UsageError

if TYPE_CHECKING:
    from drkit.ha.ops import ClusterStatus
    from drkit.settings.ha import HaSettings

app = typer.Typer(no_args_is_help=True)


def register(main: typer.Typer) -> None:
    main.add_typer(
        app, name="ha", help="high availability: status, pause, resume, switchover, rejoin"
    )


def _ha(state: State) -> HaSettings:
    if state.settings.ha is None:
        raise UsageError("drkit.yaml has no ha: section", hint="docs/ha.md shows an inventory")
    return state.settings.ha


@app.command("status")
def status_command(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Redraw every second.")] = False,
) -> None:
    """Sites, roles, leader, lag, who sees whom down, the last failover and the pause."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import status

    ha = _ha(ctx.obj)
    dcs = dcs_for(ha)
    try:
        while True:
            result = status(ha, dcs.read())
            if json_output:
                print_json(result.as_json())
            else:
                _print_status(result)
            if not watch:
                return
            time.sleep(1.0)
    finally:
        dcs.close()


def _print_status(result: ClusterStatus) -> None:
    out.print(f"cluster {result.cluster}: leader {result.leader or 'none'}")
    if result.paused:
        p = result.paused
        out.print(f"[yellow]paused[/] by {p.get('who')}: {p.get('reason')}")
    table = Table(box=None, padding=(0, 2))
    for column in ("site", "role", "leader", "healthy", "lag bytes", "streaming", "seen down by"):
        table.add_column(column)
    for s in result.sites:
        table.add_row(
            s.site,
            s.role,
            "*" if s.leader else "",
            _yn(s.healthy),
            "" if s.lag_bytes is None else str(s.lag_bytes),
            _yn(s.streaming),
            ", ".join(s.seen_down_by),
        )
    out.print(table)
    if result.last_failover:
        f = result.last_failover
        out.print(f"last failover: {f.get('from')} -> {f.get('to')}: {f.get('reason')}")


def _yn(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


@app.command("pause")
def pause_command(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with who).")],
    by: Annotated[str | None, typer.Option("--by", help="Who (default: user@host).")] = None,
) -> None:
    """Stop all automatic action (no failover, no fencing); the leader keeps its lease."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import pause

    dcs = dcs_for(_ha(ctx.obj))
    try:
        record = pause(dcs, reason, by)
    finally:
        dcs.close()
    out.print(f"paused by {record['who']}: {record['reason']}")


@app.command("resume")
def resume_command(ctx: typer.Context) -> None:
    """Let the agents act again."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import resume

    dcs = dcs_for(_ha(ctx.obj))
    try:
        lifted = resume(dcs)
    finally:
        dcs.close()
    out.print("resumed" if lifted else "was not paused")


@app.command("switchover")
def switchover_command(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="The replica's site that becomes primary.")],
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for it.")] = 60.0,
    by: Annotated[str | None, typer.Option("--by", help="Who (default: user@host).")] = None,
) -> None:
    """Planned switchover, no data loss: the leader demotes first, then SITE promotes."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import switchover

    dcs = dcs_for(_ha(ctx.obj))
    try:
        result = switchover(_ha(ctx.obj), dcs, to, by, wait_s=wait)
    finally:
        dcs.close()
    out.print(f"switched over: {result.leader} is the primary")


@app.command("rejoin")
def rejoin_command(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="The old primary's site.")],
) -> None:
    """Make SITE's old primary a replica of the primary (pg_rewind, else a fresh base backup)."""
    from drkit.ha.build import database_for, dcs_for
    from drkit.ha.ops import leader_conninfo, rejoin

    ha = _ha(ctx.obj)
    dcs = dcs_for(ha)
    try:
        upstream = leader_conninfo(ha, dcs.read(), site)
    finally:
        dcs.close()
    database = database_for(ha, site)
    if database is None:
        raise UsageError(f"{site} has no database (a witness)")
    how = rejoin(database, upstream)
    out.print(f"{site} rejoined as a replica ({how})")
