"""`drkit serve`: the daemon; `drkit alerts`: what is open (`drkit jobs`: cli/jobs.py)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import Output, out
from drkit.logs import LogFormat, setup_daemon_logging

if TYPE_CHECKING:  # the daemon's modules load only when one of these commands runs
    from prometheus_client import CollectorRegistry

    from drkit.monitor.health import HealthCheck
    from drkit.scheduler.service import HttpFace, HttpFactory, Service
    from drkit.services.alerts import AlertList

log = logging.getLogger("drkit.serve")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(alerts)


def serve(
    ctx: typer.Context,
    listen: Annotated[
        str | None,
        typer.Option(help="HOST:PORT of the API, /metrics, /healthz (default daemon.listen)"),
    ] = None,
    once: Annotated[
        bool, typer.Option(help="start the due and missed jobs, wait for them, check alerts, exit")
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(
            envvar="DRKIT_SERVE_NAME",
            help="this serve's name among the serves of daemon.control_plane "
            "(default control_plane.name, else the host name)",
        ),
    ] = None,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            envvar="DRKIT_LOG_FORMAT",
            help="human lines, or one JSON object per line for log shippers",
        ),
    ] = LogFormat.HUMAN,
) -> None:
    """Run the daemon: scheduled backups, copies, retention, checks, restore tests, alerts."""
    state: State = ctx.obj
    setup_daemon_logging(log_format, quiet=state.output.quiet, debug=state.debug)
    service = _service(state, listen, name)
    if once:
        _serve_once(state, service)
        return
    jobs_text = ", ".join(j.id for j in service.jobs) or "none (no schedules in drkit.yaml)"
    log.info("drkit serve: catalog %s; jobs: %s", _catalog_name(state), jobs_text)
    service.serve()


def _serve_once(state: State, service: Service) -> None:
    try:
        if not service.take_lease_once():
            assert service.keeper is not None
            out.print(
                f"not running jobs: control plane {service.keeper.role().value}: "
                f"{service.keeper.reason()}"
            )
            return
        service.daemon.start_up(run_duties=False)
        service.daemon.wait_idle()
        service.scan_all()
        service.evaluate()
    finally:
        if service.keeper is not None:
            service.keeper.stop()  # give the lease back: the serves need not wait a TTL
    _print_alerts(state, state.output)


def alerts(
    ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List the open alerts."""
    state: State = ctx.obj
    _print_alerts(state, state.output_for(json_output))


def _print_alerts(state: State, output: Output) -> None:
    from drkit.services.alerts import open_alert_list

    output.render(open_alert_list(state.use()), _print_alert_list)


def _print_alert_list(listing: AlertList) -> None:
    for a in listing.alerts:
        minutes = int((listing.now - a.first_seen).total_seconds() // 60)
        since = f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
        out.print(f"[red]{a.severity}[/] {a.summary} [dim]({a.source}; open {since})[/]")
    if not listing.alerts:
        out.print("no open alerts")


def _service(state: State, listen: str | None, name: str | None = None) -> Service:
    from drkit.scheduler.service import Service, ServiceOptions

    options = ServiceOptions(
        config_file=_config_file(state),
        home=state.home,
        listen=listen,
        http=_api_face(state),
        name=name,
    )
    return Service(state.settings, state.catalog(), options)


def _api_face(state: State) -> HttpFactory:
    """The API, /metrics and /healthz on one address (uvicorn), over the command's workspace."""

    def start(listen: str, registry: CollectorRegistry, health: HealthCheck) -> HttpFace:
        from drkit.api import create_app
        from drkit.api.server import ApiServer
        from drkit.web import install as dashboard

        app = create_app(
            state.workspace_read(), registry=registry, health=health, mount=[dashboard]
        )
        return ApiServer(app, listen)

    return start


def _config_file(state: State) -> str | None:
    path = state.settings_file
    return os.fspath(path.resolve()) if path is not None else None


def _catalog_name(state: State) -> str:
    from drkit.catalog import default_catalog_url

    return state.settings.catalog.url or default_catalog_url(state.home)
