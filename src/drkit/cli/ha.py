"""`drkit ha status|pause|resume|override|fence|unfence`: the HA cluster as etcd sees it,
maintenance mode, and the operator's manual actions (each in the audit trail)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from drkit.cli.context import State
from drkit.cli.output import Output, out, warn
from drkit.errors import DrkitError, UsageError
from drkit.ha.splitbrain.divergence import DivergenceError

if TYPE_CHECKING:
    from drkit.ha.drivers.database.base import Database
    from drkit.ha.drivers.dcs.base import DCS
    from drkit.ha.ops import ClusterStatus
    from drkit.ha.splitbrain.audit import AuditEntry, ManualAction
    from drkit.ha.splitbrain.diverged_writes import DivergedWrites
    from drkit.ha.splitbrain.manual import Manual, ManualStatus
    from drkit.settings.ha import HaSettings

app = typer.Typer(no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="print the result as JSON")]


@dataclass(frozen=True)
class Done:
    """The result of one operator command: a sentence, and the facts for ``--json``."""

    message: str
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, **self.facts}


def _done(output: Output, message: str, **facts: Any) -> None:
    """The sentence (not with --quiet), or the JSON with --json."""
    output.render(Done(message, facts), lambda d: out.print(d.message) if output.text else None)


@dataclass(frozen=True)
class StatusResult:
    cluster: ClusterStatus
    manual: ManualStatus

    def to_json(self) -> dict[str, Any]:
        return self.cluster.as_json() | {"manual": self.manual.as_json()}


def register(main: typer.Typer) -> None:
    main.add_typer(
        app,
        name="ha",
        help="high availability: status, pause, resume, switchover, rejoin, override, fence",
    )


def _ha(state: State) -> HaSettings:
    if state.settings.ha is None:
        raise UsageError("drkit.yaml has no ha: section", hint="docs/ha.md shows an inventory")
    return state.settings.ha


@app.command("status")
def status_command(
    ctx: typer.Context,
    json_output: JsonOption = False,
    watch: Annotated[bool, typer.Option("--watch", help="Redraw every second.")] = False,
) -> None:
    """Sites, roles, leader, lag, who sees whom down, the last failover and the pause."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import status
    from drkit.ha.splitbrain.manual import manual_status

    ha = _ha(ctx.obj)
    output = ctx.obj.output_for(json_output)
    dcs = dcs_for(ha)
    try:
        while True:
            view = dcs.read()
            manual = manual_status(view, time.time(), kept=_kept(ctx.obj, ha))
            output.render(StatusResult(status(ha, view), manual), lambda r: _print(r, output))
            if not watch:
                return
            time.sleep(1.0)
    finally:
        dcs.close()


def _kept(state: State, ha: HaSettings) -> tuple[AuditEntry, ...]:
    """The catalog's copy of the manual actions; etcd's alone (with a warning) when unreadable."""
    from drkit.ha.splitbrain.kept import catalog_trail

    try:
        return catalog_trail(state.workspace.catalog(), ha.cluster)
    except Exception as exc:  # status still shows what etcd holds
        warn(f"the catalog's copy of the manual actions is not readable: {exc}")
        return ()


def _keep(state: State, ha: HaSettings, item: AuditEntry) -> None:
    from drkit.ha.splitbrain.kept import keep

    keep(state.workspace.catalog(), ha.cluster, item)


def _print(result: StatusResult, output: Output) -> None:
    _print_status(result.cluster, output)
    _print_manual(result.manual, output)


def _print_status(result: ClusterStatus, output: Output) -> None:
    out.print(f"cluster {result.cluster}: leader {result.leader or 'none'}")
    if result.paused:
        p = result.paused
        out.print(f"[yellow]paused[/] by {p.get('who')}: {p.get('reason')}")
    if output.quiet:
        return
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
    if result.sync is not None:
        standby = result.sync.get("sync_standby") or "none (nobody may be promoted)"
        out.print(f"synchronous standby: {standby} (named by {result.sync.get('leader')})")
    if result.last_failover:
        f = result.last_failover
        out.print(f"last failover: {f.get('from')} -> {f.get('to')}: {f.get('reason')}")


def _print_manual(manual: ManualStatus, output: Output) -> None:
    o = manual.override
    if o is not None:
        until = "until lifted" if o["expires_at"] is None else f"until {_when(o['expires_at'])}"
        out.print(
            f"[yellow]override[/]: {o['primary']} is the primary by {o['who']}: {o['reason']} "
            f"({until})"
        )
        if o["against_quorum"]:
            out.print(f"  [yellow]against the quorum[/]: {o['against_quorum']}")
    if manual.fenced:
        out.print(f"[yellow]fenced by hand[/]: {', '.join(manual.fenced)}")
    if manual.missing_in_etcd:
        out.print(
            f"[yellow]etcd lacks {manual.missing_in_etcd} manual action(s)[/] the catalog keeps "
            "(shown and in force here; an agent puts them back into etcd when it starts)"
        )
    if manual.audit and output.text:
        out.print("audit trail (latest last):")
        for a in manual.audit:
            site = f" {a['site']}" if a["site"] else ""
            out.print(
                f"  {_when(a['at'])} {a['who']}: {a['action']}{site}: {a['reason']}"
                f" (automatic: {a['automatic']})"
            )


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def _yn(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


@app.command("pause")
def pause_command(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with who).")],
    by: Annotated[str | None, typer.Option("--by", help="Who (default: user@host).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Stop all automatic action (no failover, no fencing); the leader keeps its lease."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import pause
    from drkit.ha.splitbrain.audit import ManualAction

    ha = _ha(ctx.obj)
    dcs = dcs_for(ha)
    try:
        record = pause(dcs, reason, by)
        _record(ctx.obj, ha, dcs, ManualAction.PAUSE, str(record["who"]), reason)
    finally:
        dcs.close()
    _done(
        ctx.obj.output_for(json_output),
        f"paused by {record['who']}: {record['reason']}",
        paused=dict(record),
    )


@app.command("resume")
def resume_command(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option("--reason", help="Why (for the audit trail).")] = "resume",
    by: Annotated[str | None, typer.Option("--by", help="Who (default: user@host).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Let the agents act again."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import actor, resume
    from drkit.ha.splitbrain.audit import ManualAction

    ha = _ha(ctx.obj)
    dcs = dcs_for(ha)
    try:
        lifted = resume(dcs)
        if lifted:
            _record(ctx.obj, ha, dcs, ManualAction.RESUME, actor(by), reason)
    finally:
        dcs.close()
    _done(
        ctx.obj.output_for(json_output),
        "resumed" if lifted else "was not paused",
        lifted=None if lifted is None else dict(lifted),
    )


@app.command("switchover")
def switchover_command(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="The replica's site that becomes primary.")],
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for it.")] = 60.0,
    by: Annotated[str | None, typer.Option("--by", help="Who (default: user@host).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Planned switchover, no data loss: the leader demotes first, then SITE promotes."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import switchover

    dcs = dcs_for(_ha(ctx.obj))
    try:
        result = switchover(_ha(ctx.obj), dcs, to, by, wait_s=wait)
    finally:
        dcs.close()
    _done(
        ctx.obj.output_for(json_output),
        f"switched over: {result.leader} is the primary",
        status=result.as_json(),
    )


@app.command("rejoin")
def rejoin_command(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="The old primary's site.")],
    accept_divergence: Annotated[
        bool,
        typer.Option(
            "--accept-divergence",
            help="Rejoin even though it wrote after the fork (those writes are discarded).",
        ),
    ] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who (default: user@host).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Make SITE's old primary a replica of the primary (pg_rewind, else a fresh base backup).

    First the writes it took after the fork are reported (timeline, LSN range, each
    transaction's tables from its WAL); with any, it refuses unless accepted.
    """
    from drkit.ha.build import database_for, dcs_for
    from drkit.ha.ops import actor, leader_conninfo, rejoin
    from drkit.ha.splitbrain.kept import keep_rejoin

    ha = _ha(ctx.obj)
    output = ctx.obj.output_for(json_output)
    dcs = dcs_for(ha)
    try:
        view = dcs.read()
        upstream = leader_conninfo(ha, view, site)
    finally:
        dcs.close()
    assert view.leader is not None
    database = database_for(ha, site)
    primary = database_for(ha, view.leader.site)
    if database is None or primary is None:
        raise UsageError(f"{site} has no database (a witness)")
    report = _diverged(site, database, view.leader.site, primary, output)
    allowed = accept_divergence or ha.rejoin_diverged == "allow"
    if report.diverged and not allowed:
        raise DivergenceError(
            f"{site} took writes after the fork that a rejoin would discard: "
            + "; ".join(report.lines()),
            hint="reconcile them first (the report lists the tables), then "
            f"`drkit ha rejoin {site} --accept-divergence`",
        )
    who = actor(by)
    if report.diverged:  # on record before anything is discarded
        keep_rejoin(ctx.obj.workspace.catalog(), ha.cluster, site, who, report.as_json())
    how = rejoin(database, upstream, diverged=report.diverged)
    discarded = " (the writes after the fork were discarded)" if report.diverged else ""
    _done(
        output,
        f"{site} rejoined as a replica ({how}){discarded}",
        site=site,
        how=how,
        divergence=report.as_json(),
    )


def _diverged(
    site: str, database: Database, leader: str, primary: Database, output: Output
) -> DivergedWrites:
    """The diverged-writes report, shown before anything is discarded."""
    from drkit.ha.splitbrain.diverged_writes import diverged_writes

    try:
        report = diverged_writes(site, database, leader, primary)
    except DrkitError as exc:
        raise DivergenceError(
            f"cannot report what {site} wrote after the fork, so it is not rejoined: {exc.message}",
            hint="run it on the old primary's host (it reads the data directory's WAL); "
            "copy the data directory aside before rejoining by hand",
        ) from exc
    if output.text:
        for line in report.lines():
            out.print(line)
    return report


# --- manual actions (audit trail) ------------------------------------------------------


def _manual(ha: HaSettings) -> Manual:
    from drkit.ha.splitbrain.manual import Manual

    return Manual(tuple(ha.database_sites()), (ha.witness,) if ha.witness else ())


def _record(
    state: State,
    ha: HaSettings,
    dcs: DCS,
    action: ManualAction,
    who: str,
    reason: str,
    site: str | None = None,
) -> None:
    """Recorded in etcd (the agents act on it), then kept in the catalog too."""
    item = _manual(ha).act(
        dcs, dcs.read(), action, who=who, reason=reason, now=time.time(), site=site
    )
    _keep(state, ha, item)


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "this needs a confirmation, and there is no terminal to ask on",
            hint="pass --yes to confirm",
        )
    if not typer.confirm(question, default=False):
        raise UsageError("cancelled: nothing was recorded")


@app.command("override")
def override_command(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with who).")],
    primary: Annotated[
        str | None, typer.Option("--primary", help="The site that must be the primary.")
    ] = None,
    lift: Annotated[bool, typer.Option("--lift", help="Lift the override in force.")] = False,
    for_: Annotated[
        str | None, typer.Option("--for", help="Expire after this long (e.g. 4h, 1d).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who (default: user@host).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Force the primary's site, even against the automatic decision; --lift to end it."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import actor
    from drkit.ha.splitbrain.audit import ManualAction, record_action
    from drkit.settings.retention import parse_duration

    ha = _ha(ctx.obj)
    output = ctx.obj.output_for(json_output)
    if lift == (primary is not None):
        raise UsageError("give --primary SITE, or --lift", hint="drkit ha override --help")
    dcs = dcs_for(ha)
    try:
        if lift:
            _record(ctx.obj, ha, dcs, ManualAction.LIFT_OVERRIDE, actor(by), reason)
            _done(output, "override lifted: the agents decide again", lifted=True)
            return
        assert primary is not None
        now = time.time()
        expires = None if for_ is None else now + parse_duration(for_).total_seconds()
        item = _manual(ha).plan_override(
            dcs.read(), primary, who=actor(by), reason=reason, now=now, expires_at=expires
        )
        if output.text:
            out.print(f"automatic decision now: {item.automatic}")
        if item.against_quorum:
            warn(item.against_quorum)  # on stderr: with --json too
        _confirm(f"make {primary} the primary, fencing every other writable site?", yes)
        record_action(dcs, item)
        _keep(ctx.obj, ha, item)
    finally:
        dcs.close()
    until = "" if expires is None else f" until {_when(expires)}"
    _done(
        output,
        f"override: {primary} is the primary{until} (by {item.who}: {reason})",
        override=dict(item.record()),
    )


@app.command("fence")
def fence_command(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="The site whose agent fences its database.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with who).")],
    by: Annotated[str | None, typer.Option("--by", help="Who (default: user@host).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Fence SITE by hand: its agent keeps it read-only, it never takes the lease."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import actor
    from drkit.ha.splitbrain.audit import ManualAction

    ha = _ha(ctx.obj)
    _confirm(f"fence {site} (its database read-only, its load balancer drained)?", yes)
    dcs = dcs_for(ha)
    try:
        _record(ctx.obj, ha, dcs, ManualAction.FENCE, actor(by), reason, site)
    finally:
        dcs.close()
    _done(
        ctx.obj.output_for(json_output),
        f"{site} fenced by hand until `drkit ha unfence {site}`",
        fenced=site,
    )


@app.command("unfence")
def unfence_command(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="A site fenced by hand.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with who).")],
    by: Annotated[str | None, typer.Option("--by", help="Who (default: user@host).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Lift a hand fence; the site's old primary still needs `drkit ha rejoin` to follow."""
    from drkit.ha.build import dcs_for
    from drkit.ha.ops import actor
    from drkit.ha.splitbrain.audit import ManualAction

    ha = _ha(ctx.obj)
    dcs = dcs_for(ha)
    try:
        _record(ctx.obj, ha, dcs, ManualAction.UNFENCE, actor(by), reason, site)
    finally:
        dcs.close()
    _done(ctx.obj.output_for(json_output), f"{site} unfenced", unfenced=site)
