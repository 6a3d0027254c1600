"""Assemble one site's :class:`~drkit.ha.agent.Agent` from drkit.yaml and run it.

The agent's failover runs the failover runbook through the runner (journal
in the catalog); its alerts go through the alert notifiers; its split-brain
watch (``drkit.ha.agent.watch_build``) reconciles its alerts in the catalog;
its metrics (and the split-brain gauges) are served on the site's
``metrics_port``. Before its first cycle it puts back into etcd the manual
actions only the catalog still keeps (``drkit.ha.splitbrain.kept``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from drkit.catalog import Catalog
from drkit.errors import DrkitError, UsageError
from drkit.ha.agent.loop import Agent, AgentTimings
from drkit.ha.agent.watch_build import metrics_text, split_brain_watch
from drkit.ha.build import conninfo, database_for, dcs_for, load_balancer_for, site_of
from drkit.ha.drivers.dcs.base import DCS
from drkit.ha.health.checks import Probe, SqlProbe
from drkit.ha.metrics import render, serve_metrics
from drkit.ha.policy import policy_from
from drkit.ha.splitbrain.kept import restore
from drkit.notify.base import Severity
from drkit.notify.immediate import notify_now
from drkit.settings.ha import HaSettings
from drkit.settings.model import Settings

log = logging.getLogger("drkit.ha.agent")


def peer_probes(ha: HaSettings, site: str) -> dict[str, Probe]:
    """SQL probes (a frozen server still accepts TCP) of every other database site."""
    probes: dict[str, Probe] = {}
    for name, other in ha.sites.items():
        if name == site or other.database is None:
            continue
        db = other.database
        dsn = f"host={db.host} port={db.port} user={db.user} dbname={db.dbname}"
        probes[name] = SqlProbe(f"{name}-database", dsn)
    return probes


def _restore_manual(dcs: DCS, catalog: Callable[[], Catalog], cluster: str, site: str) -> None:
    """Overrides, hand fences and the pause back into etcd from the catalog (after a wipe)."""
    try:
        restore(dcs, catalog, cluster)
    except Exception as exc:  # etcd or the catalog away: the agent starts all the same
        log.warning("%s: manual actions not checked against the catalog: %s", site, exc)


def _prepare_failover(settings: Settings, site: str, user_runbook: Path | None) -> None:
    """Imports and the runbook check before the first cycle; a broken runbook is logged loud."""
    from drkit.ha.failover import prepare_failover

    try:
        prepare_failover(settings, site, user_runbook)
    except DrkitError as exc:
        log.error(
            "%s: the failover runbook does not load, so a failover to %s would fail: %s%s",
            site, site, exc, f" ({exc.hint})" if exc.hint else "",
        )  # fmt: skip


def build_agent(
    settings: Settings,
    site: str,
    catalog: Callable[[], Catalog],
    user_runbook: Path | None = None,
    *,
    split_brain: bool = True,
) -> Agent:
    ha = settings.ha
    if ha is None:
        raise UsageError("drkit.yaml has no ha: section", hint="docs/ha.md shows an inventory")
    site_of(ha, site)
    t = ha.timings
    lb = load_balancer_for(ha, site)
    dcs = dcs_for(ha)
    _restore_manual(dcs, catalog, ha.cluster, site)

    _prepare_failover(settings, site, user_runbook)

    def failover(old: str | None, new: str, reason: str) -> str:
        from drkit.ha.failover import run_failover

        return run_failover(settings, catalog(), old, new, reason, user_runbook=user_runbook)

    def alert(sentence: str) -> None:
        # on its own thread: a notifier that cannot be reached (the site is cut off) retries
        # for seconds, and the HA loop must go on meanwhile (it may have to fence)
        threading.Thread(
            target=notify_now,
            args=(settings,),
            kwargs={
                "dedup_key": f"drkit-ha-{ha.cluster}-{site}-{sentence[:60]}",
                "severity": Severity.CRITICAL,
                "summary": f"[{ha.cluster}/{site}] {sentence}",
                "source": f"drkit agent {site}",
            },
            name=f"ha-alert-{site}",
            daemon=True,
        ).start()

    return Agent(
        site=site,
        policy=policy_from(ha),
        timings=AgentTimings(
            t.loop_interval_s,
            t.check_timeout_s,
            t.lease_ttl_s,
            t.rise,
            t.fall,
            dcs_timeout_s=t.dcs_timeout_s,
            fence_timeout_s=t.fence_timeout_s,
            safety_margin_s=t.safety_margin_s,
        ),
        dcs=dcs,
        database=database_for(ha, site),
        load_balancer=lb[0] if lb else None,
        lb_server=lb[1] if lb else None,
        peers=peer_probes(ha, site),
        failover=failover,
        alert=alert,
        upstream=lambda other: None if other is None else conninfo(ha, other, site),
        split=split_brain_watch(settings, site, catalog) if split_brain else None,
    )


def run_agent(settings: Settings, agent: Agent, stop: threading.Event) -> None:
    ha = settings.ha
    assert ha is not None
    port = ha.sites[agent.site].metrics_port
    host = ha.sites[agent.site].metrics_host
    server = None
    if port is not None:

        def text() -> str:
            leading = agent.memory.lease_deadline_mono is not None
            own = render(ha.cluster, agent.site, agent.last_state, leading)
            return own + metrics_text(agent.split)

        server = serve_metrics(host, port, text)
    try:
        agent.run(stop)
    finally:
        if server is not None:
            server.shutdown()
        if agent.split is not None:
            agent.split.close()
        agent.dcs.close()
