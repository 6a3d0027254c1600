"""Build one agent's :class:`~drkit.ha.agent.splitbrain.SplitBrainWatch` from the inventory.

- every database site's PostgreSQL (probed for writable, timeline, LSN);
- every site's load balancer; a server name maps back to the site whose
  ``load_balancer.server`` it is (so balancers name the servers alike);
- the DNS records of the sites (one record per zone and name), asked of the
  server of the first record; a site's values are its ``address`` (default:
  its database host). A site with DNS records owns them (withdraws them when
  it fences);
- the other voters' agent endpoints (``metrics_host:metrics_port``), probed
  over TCP beside their databases for the reachability row;
- alerts through the catalog's alert bookkeeping and the alert notifiers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from drkit.catalog import Catalog
from drkit.ha.agent.splitbrain import Report, SplitBrainWatch
from drkit.ha.build import database_for, load_balancer_for
from drkit.ha.drivers.database.base import Database
from drkit.ha.drivers.dns.base import Dns, DnsRecord
from drkit.ha.drivers.dns.rfc2136 import Rfc2136Dns, Rfc2136Settings
from drkit.ha.drivers.loadbalancer.base import LoadBalancer
from drkit.ha.health.checks import Probe, TcpProbe
from drkit.ha.splitbrain.alerts import reconcile_split_brain
from drkit.ha.splitbrain.detect import SplitBrainState
from drkit.ha.splitbrain.gather import Parts
from drkit.notify.base import Notification
from drkit.notify.dispatch import Delivery, deliver
from drkit.notify.immediate import alert_notifiers
from drkit.settings.ha import DnsRecordSettings, HaSettings
from drkit.settings.model import Settings


def parts_of(ha: HaSettings) -> tuple[Parts, DnsRecordSettings | None]:
    sites = tuple(ha.database_sites())
    databases: dict[str, Database] = {}
    for s in sites:
        db = database_for(ha, s)
        if db is not None:
            databases[s] = db
    balancers: dict[str, LoadBalancer] = {}
    server_sites: dict[str, str] = {}
    for name in ha.sites:
        built = load_balancer_for(ha, name)
        if built is not None:
            balancers[name], server_sites[built[1]] = built[0], name
    first = next((r for s in ha.sites.values() for r in s.dns), None)
    records = tuple(
        dict.fromkeys(DnsRecord(r.zone, r.name) for s in ha.sites.values() for r in s.dns)
    )
    values = {
        name: tuple(sorted({r.address or site.database.host for r in site.dns}))
        for name, site in ha.sites.items()
        if site.dns and site.database is not None
    }
    parts = Parts(
        sites=sites,
        witnesses=(ha.witness,) if ha.witness else (),
        databases=databases,
        balancers=balancers,
        server_sites=server_sites,
        dns=_dns(first, ha.timings.check_timeout_s) if first is not None else None,
        records=records,
        dns_values=values,
    )
    return parts, first


def _dns(record: DnsRecordSettings, timeout_s: float) -> Dns:
    data: dict[str, object] = {"servers": [record.server], "timeout_s": timeout_s}
    if record.tsig_key_file is not None:
        data |= {
            "key_name": record.tsig_key_name or record.tsig_key_file.stem,
            "key_secret_file": record.tsig_key_file,
        }
    return Rfc2136Dns(Rfc2136Settings.model_validate(data))


def agent_probes(ha: HaSettings, me: str) -> dict[str, Probe]:
    return {
        name: TcpProbe(f"{name}-agent", site.metrics_host, site.metrics_port)
        for name, site in ha.sites.items()
        if name != me and site.metrics_port is not None
    }


def catalog_report(settings: Settings, site: str, catalog: Callable[[], Catalog]) -> Report:
    ha = settings.ha
    assert ha is not None

    def send(n: Notification) -> Sequence[Delivery]:
        notifiers = alert_notifiers(settings)
        return deliver(n, notifiers) if notifiers else []

    def report(states: Sequence[SplitBrainState], now: float) -> None:
        reconcile_split_brain(
            catalog(),
            states,
            ha.cluster,
            datetime.fromtimestamp(now, UTC),
            repeat_interval=settings.alerts.repeat_interval,
            send=send,
            observer=site,
        )

    return report


def split_brain_watch(
    settings: Settings, site: str, catalog: Callable[[], Catalog] | None
) -> SplitBrainWatch:
    ha = settings.ha
    assert ha is not None
    parts, first = parts_of(ha)
    return SplitBrainWatch(
        cluster=ha.cluster,
        site=site,
        parts=parts,
        agent_probes=agent_probes(ha, site),
        owns_dns=frozenset(n for n, s in ha.sites.items() if s.dns),
        dns=parts.dns,
        records=parts.records,
        dns_ttl=first.ttl if first is not None else 30,
        report=catalog_report(settings, site, catalog) if catalog is not None else None,
    )


def metrics_text(watch: SplitBrainWatch | None) -> str:
    return "" if watch is None else watch.metrics()
