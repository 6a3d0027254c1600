"""`drkit agent --site NAME`: the HA agent of one site (or of the witness), in the foreground."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.logs import LogFormat, setup_daemon_logging
from drkit.sdnotify import READY, STOPPING, notify

log = logging.getLogger("drkit.agent")


def register(main: typer.Typer) -> None:
    main.command("agent")(agent)


def agent(
    ctx: typer.Context,
    site: Annotated[str, typer.Option("--site", help="This agent's site (ha.sites).")],
    log_format: Annotated[
        LogFormat,
        typer.Option(
            envvar="DRKIT_LOG_FORMAT",
            help="human lines, or one JSON object per line for log shippers",
        ),
    ] = LogFormat.HUMAN,
) -> None:
    """Run the HA agent of SITE: health checks, leader lease, failover and fencing."""
    from drkit.ha.agent.runtime import build_agent, run_agent
    from drkit.services.agent import agent_plan

    state: State = ctx.obj
    workspace = state.use()
    plan = agent_plan(workspace, site)
    settings = plan.settings
    assert settings.ha is not None  # agent_plan refuses drkit.yaml without ha:
    setup_daemon_logging(log_format, quiet=state.output.quiet, debug=state.debug)
    built = build_agent(settings, site, workspace.catalog, plan.failover_runbook)
    stop = threading.Event()

    def stopping(*_: object) -> None:
        notify(STOPPING, "STATUS=stopping")
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stopping)
    log.info("drkit agent for site %s of cluster %s", site, settings.ha.cluster)
    notify(READY, f"STATUS=agent of site {site} running")  # Type=notify units
    run_agent(settings, built, stop)
