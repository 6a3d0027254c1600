"""`drkit agent --site NAME`: the HA agent of one site (or of the witness), in the foreground."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Annotated

import typer

from drkit.cli.context import State
from drkit.cli.output import err
from drkit.errors import UsageError


def register(main: typer.Typer) -> None:
    main.command("agent")(agent)


def agent(
    ctx: typer.Context,
    site: Annotated[str, typer.Option("--site", help="This agent's site (ha.sites).")],
) -> None:
    """Run the HA agent of SITE: health checks, leader lease, failover and fencing."""
    from drkit.ha.runtime import build_agent, run_agent
    from drkit.runbooks.store import RunbookStore, runbook_dir

    state: State = ctx.obj
    settings = state.settings
    if settings.ha is None:
        raise UsageError("drkit.yaml has no ha: section", hint="docs/ha.md shows an inventory")
    user_runbook = None
    if settings.ha.failover_runbook:
        folder = runbook_dir(settings, state.settings_file, state.home)
        user_runbook = RunbookStore(folder).path(settings.ha.failover_runbook)
    built = build_agent(settings, site, state.catalog, user_runbook)
    _log_decisions()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    err.print(f"drkit agent for site {site} of cluster {settings.ha.cluster}")
    run_agent(settings, built, stop)


def _log_decisions() -> None:
    """Each changed decision and every fence or failure, one line on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    for name in ("drkit.ha", "drkit.runbooks", "drkit.notify"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False
