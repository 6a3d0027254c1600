"""`drkit notify list|test`: the notification backends of drkit.yaml, and a test message."""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from drkit import __version__
from drkit.cli.context import State
from drkit.cli.output import err, out, print_json
from drkit.errors import UsageError
from drkit.notify.base import EventAction, Notification, Notifier, Severity
from drkit.notify.dispatch import Delivery, deliver
from drkit.notify.errors import NotifierConfigError, NotifyError
from drkit.notify.registry import NOTIFIERS, build_notifier, select
from drkit.plugins import PluginSettings

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
    rows = [_row(name, settings) for name, settings in sorted(state.settings.notifiers.items())]
    if json_output:
        print_json([asdict(row) for row in rows])
        return
    if not rows:
        out.print("no notifiers; add a 'notifiers:' section to drkit.yaml (docs/notifications.md)")
        return
    table = Table(box=None, padding=(0, 2))
    for column in ("name", "type", "target", "status"):
        table.add_column(column)
    for row in rows:
        status = "ready" if row.ok else f"[red]{row.problem}[/]"
        table.add_row(row.name, row.type, row.target, status)
    out.print(table)


@dataclass(frozen=True)
class _Row:
    name: str
    type: str
    target: str
    ok: bool
    problem: str | None


def _row(name: str, settings: PluginSettings) -> _Row:
    """One listing row; building the notifier checks that its secrets can be read."""
    problem = None
    try:
        build_notifier(name, settings)
    except NotifierConfigError as exc:
        problem = exc.message
    target = NOTIFIERS.settings_of(settings).target()
    return _Row(name, settings.type, target, problem is None, problem)


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
    notifiers = _chosen(state, name, all_)
    trigger = test_notification(severity)
    events = [trigger, _resolved(trigger)] if resolve else [trigger]
    results: list[tuple[Notification, Delivery]] = []
    for event in events:
        if not (state.quiet or json_output):
            err.print(f"sending a test {event.action.value} to {len(notifiers)} notifier(s)...")
        deliveries = deliver(event, notifiers, retries=retries, timeout_s=timeout)
        results += [(event, d) for d in deliveries]
    if json_output:
        print_json([{"action": e.action.value, **_delivery_json(d)} for e, d in results])
    else:
        _print(results)
    failed = [d for _, d in results if not d.ok]
    if failed:
        raise NotifyError(
            f"{len(failed)} of {len(results)} test notifications were not delivered",
            hint="each failure above says why; fix the notifier's settings and try again",
        )


def _chosen(state: State, name: str | None, all_: bool) -> list[Notifier]:
    configured = state.settings.notifiers
    if all_ == (name is not None):
        raise UsageError(
            "name one notifier, or pass --all",
            hint=f"configured: {', '.join(sorted(configured)) or 'none'}",
        )
    names = sorted(configured) if all_ else [str(name)]
    if not names:
        raise UsageError(
            "no notifiers are configured",
            hint="add a 'notifiers:' section to drkit.yaml (see docs/notifications.md)",
        )
    return [build_notifier(n, select(configured, n)) for n in names]


def test_notification(severity: Severity) -> Notification:
    """The notification `drkit notify test` sends: recognisable, harmless, one per host."""
    host = socket.gethostname()
    return Notification(
        action=EventAction.TRIGGER,
        dedup_key=f"drkit-test:{host}",
        severity=severity,
        summary=f"drkit test notification from {host}",
        source=f"drkit notify test on {host}",
        time=datetime.now(UTC),
        details=(("purpose", "checking that notifications arrive"), ("drkit", __version__)),
    )


def _resolved(trigger: Notification) -> Notification:
    return Notification(
        action=EventAction.RESOLVE,
        dedup_key=trigger.dedup_key,
        severity=trigger.severity,
        summary=trigger.summary,
        source=trigger.source,
        time=datetime.now(UTC),
        details=trigger.details,
    )


def _delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "notifier": d.notifier,
        "ok": d.ok,
        "attempts": d.attempts,
        "error": d.error,
        "started": d.started,
        "duration_s": round(d.duration_s, 3),
    }


def _print(results: list[tuple[Notification, Delivery]]) -> None:
    table = Table(box=None, padding=(0, 2))
    for column in ("notifier", "event", "result", "attempts", "time"):
        table.add_column(column)
    for event, d in results:
        result = "[green]delivered[/]" if d.ok else "[red]FAILED[/]"
        took = f"{d.duration_s:.2f} s"
        table.add_row(d.notifier, event.action.value, result, str(d.attempts), took)
    out.print(table)
    for event, d in results:
        if d.error:
            out.print(f"[red]{d.notifier}[/] ({event.action.value}): {d.error}")
