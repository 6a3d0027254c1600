"""The ``ha:`` inventory in ``drkit.yaml``: cluster, etcd, sites, witness, timings.

```yaml
ha:
  cluster: shop
  etcd: {endpoints: ["http://10.0.0.1:2379"], user: drkit, password_file: /etc/drkit/etcd-pw}
  sites:
    us-east:
      database: {host: 10.0.1.5, port: 5432, data_dir: /var/lib/postgresql/15/main,
                 replication_user: replicator, priority: 100}
      app_servers:
        - {name: web1, start: "systemctl start shop", stop: "systemctl stop shop",
           health_url: "http://10.0.1.10:8080/health"}
      load_balancer: {socket: /run/haproxy/admin.sock, backend: pg, server: us-east}
      dns: [{zone: example.com, name: db.example.com, server: 10.0.0.53,
             tsig_key_file: /etc/drkit/tsig.key}]
    us-west: {...}
  witness: witness
  timings: {lease_ttl_s: 6, loop_interval_s: 1, ...}
```

The timing validator refuses combinations in which a primary that loses
etcd cannot fence itself before its lease can expire and another site may
take over (see :func:`fencing_budget_s`), and those whose slack (the lease
beyond that budget) cannot ride out an etcd leader election (see
:func:`etcd_election_s`): losing one etcd member must never fence a healthy primary.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

SITE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


def _check_site_name(value: str) -> str:
    if SITE_NAME.fullmatch(value) is None:
        raise PydanticCustomError(
            "site_name",
            "invalid site name '{name}': use lowercase letters, digits, '_' and '-'",
            {"name": value},
        )
    return value


SiteName = Annotated[str, AfterValidator(_check_site_name)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EtcdSettings(_Frozen):
    """How agents reach the etcd cluster (v3 API through its JSON gateway)."""

    endpoints: list[str] = Field(min_length=1, description="etcd client URLs, http(s)://host:port.")
    ca_file: Path | None = Field(default=None, description="CA bundle for https endpoints.")
    cert_file: Path | None = Field(default=None, description="Client certificate (TLS).")
    key_file: Path | None = Field(default=None, description="Client key (TLS).")
    user: str | None = Field(default=None, description="etcd user (authentication).")
    password_file: Path | None = Field(default=None, description="File holding the password.")
    election_timeout_s: float = Field(
        default=1.0,
        ge=0.25,
        description="etcd's --election-timeout (1000 ms by default), in seconds. At least "
        "0.25: the assumed election (twice this) also covers the 0.5 s the agent gives its "
        "health probes past their timeout, before the etcd read that may find etcd gone.",
    )


class DatabaseSettings(_Frozen):
    """A site's PostgreSQL server."""

    host: str = Field(description="Address the other sites and the agent use.")
    port: int = Field(default=5432, ge=1, le=65535)
    data_dir: Path = Field(description="PGDATA of the server.")
    bin_dir: Path = Field(
        default=Path("/usr/lib/postgresql/15/bin"), description="pg_ctl, pg_rewind, ..."
    )
    user: str = Field(default="postgres", description="Superuser the agent connects as.")
    dbname: str = Field(default="postgres")
    replication_user: str = Field(default="replicator")
    priority: int = Field(
        default=100, ge=0, description="Higher wins among equal replicas; 0 never."
    )


class AppServerSettings(_Frozen):
    """One application server: started on failover, stopped when a site is fenced."""

    name: str
    start: str | None = Field(default=None, description="Shell command that starts it.")
    stop: str | None = Field(default=None, description="Shell command that stops it.")
    ssh_host: str | None = Field(
        default=None, description="Run start/stop over SSH on this host (config-history hosts)."
    )
    health_url: str | None = Field(default=None, description="HTTP URL answering 2xx when up.")


class LoadBalancerSettings(_Frozen):
    """A site's HAProxy, driven over its runtime API."""

    socket: Path | None = Field(default=None, description="Runtime API unix socket.")
    address: str | None = Field(default=None, description="Runtime API host:port instead.")
    backend: str = Field(description="Backend holding the database servers.")
    server: str = Field(description="This site's server name in that backend.")

    @model_validator(mode="after")
    def _one_endpoint(self) -> Self:
        if (self.socket is None) == (self.address is None):
            raise PydanticCustomError(
                "lb_endpoint", "set exactly one of load_balancer.socket or load_balancer.address"
            )
        return self


class DnsRecordSettings(_Frozen):
    """A DNS record that follows the primary (RFC 2136 update)."""

    zone: str
    name: str
    server: str = Field(description="Primary DNS server host[:port].")
    tsig_key_name: str | None = Field(default=None, description="TSIG key name.")
    tsig_key_file: Path | None = Field(default=None, description="File with its base64 secret.")
    ttl: int = Field(default=30, ge=1)
    address: str | None = Field(
        default=None, description="Address published for this site (default: database.host)."
    )


class SiteSettings(_Frozen):
    """One region: its database, app servers, load balancer and DNS records."""

    database: DatabaseSettings | None = Field(default=None, description="None: a witness.")
    app_servers: list[AppServerSettings] = Field(default_factory=list)
    load_balancer: LoadBalancerSettings | None = None
    dns: list[DnsRecordSettings] = Field(default_factory=list)
    metrics_port: int | None = Field(default=None, ge=1, le=65535, description="Agent /metrics.")
    metrics_host: str = Field(default="127.0.0.1", description="Address /metrics listens on.")


class TimingSettings(_Frozen):
    """How fast the agents detect, decide and act (seconds)."""

    lease_ttl_s: float = Field(default=8.0, gt=0, description="Leader lease time to live.")
    loop_interval_s: float = Field(default=1.0, gt=0, description="One HA cycle every ...")
    check_interval_s: float = Field(default=1.0, gt=0, description="Health checks every ...")
    check_timeout_s: float = Field(default=1.0, gt=0, description="One check may take ...")
    dcs_timeout_s: float = Field(default=1.0, gt=0, description="One etcd request may take ...")
    fence_timeout_s: float = Field(default=2.0, gt=0, description="Fencing may take ...")
    safety_margin_s: float = Field(default=1.0, ge=0, description="Kept free for clock jitter.")
    rise: int = Field(default=2, ge=1, description="Successes before a check is up.")
    fall: int = Field(default=3, ge=1, description="Failures before a check is down.")
    confirm_down_s: float = Field(
        default=0.0, ge=0, description="Observers must see the primary down this long."
    )


def fencing_budget_s(t: TimingSettings) -> float:
    """Seconds a primary needs, in the worst case, from its last good refresh to fenced.

    The refresh after the last good one starts up to one loop later, after
    the cycle's health checks (one check timeout), may take the whole etcd
    timeout to fail, then fencing runs; the margin absorbs
    jitter. All of it must fit in the lease's TTL, or another site could
    acquire the lease while this one still accepts writes.
    """
    return (
        t.loop_interval_s
        + t.check_timeout_s
        + t.dcs_timeout_s
        + t.fence_timeout_s
        + t.safety_margin_s
    )


def etcd_election_s(e: EtcdSettings) -> float:
    """How long etcd may go without a raft leader when its leader dies: the assumption.

    Raft draws each member's election timeout at random in [T, 2T) (T is
    etcd's ``--election-timeout``), and the first member to time out wins the
    vote in one round trip: at most ``2 T``. Set ``etcd.election_timeout_s``
    when etcd runs with another ``--election-timeout``.
    """
    return 2 * e.election_timeout_s


def election_slack_s(ha: HaSettings) -> float:
    """Seconds a primary rides out an etcd outage before it fences: the lease beyond the budget.

    The agent keeps retrying etcd (every member) until the last moment a call
    can still end in time to fence (see :mod:`drkit.ha.agent.loop`), so an
    outage shorter than this slack never fences a healthy primary.
    """
    return ha.timings.lease_ttl_s - fencing_budget_s(ha.timings)


class HaSettings(_Frozen):
    """The HA inventory: which sites exist and how the agents behave."""

    cluster: SiteName = Field(description="Cluster name: keys live under /drkit/<cluster>/.")
    etcd: EtcdSettings
    sites: dict[SiteName, SiteSettings] = Field(min_length=1)
    witness: SiteName | None = Field(default=None, description="A site that only votes.")
    timings: TimingSettings = Field(default_factory=TimingSettings)
    maximum_lag_on_failover: int = Field(default=1048576, ge=0, description="Bytes.")
    synchronous_mode: bool = Field(default=False)
    anti_flapping_s: float = Field(default=600.0, ge=0)
    lag_alert_bytes: int = Field(default=16 * 1048576, ge=0)
    failover_runbook: str | None = Field(
        default=None, description="A runbook name; default: the built-in failover."
    )
    fencing_command: str | None = Field(
        default=None, description="Run on the old primary's behalf (e.g. STONITH)."
    )
    rejoin_diverged: Literal["refuse", "allow"] = Field(
        default="refuse",
        description="Rejoin an old primary that wrote after the fork (its writes are reported "
        "and discarded): refuse unless the operator accepts, or allow.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        self._check_timings()
        self._check_witness()
        return self

    def _check_timings(self) -> None:
        t = self.timings
        budget = fencing_budget_s(t)
        if budget >= t.lease_ttl_s:
            raise PydanticCustomError(
                "ha_timings",
                "timings cannot fence in time: loop_interval_s + check_timeout_s + dcs_timeout_s + "
                "fence_timeout_s + safety_margin_s = {budget} s must be below lease_ttl_s = "
                "{ttl} s (hint: raise lease_ttl_s above {budget} s, or shorten the loop or "
                "the timeouts)",
                {"budget": f"{budget:g}", "ttl": f"{t.lease_ttl_s:g}"},
            )
        election = etcd_election_s(self.etcd)
        if round(budget + election, 6) > t.lease_ttl_s:
            raise PydanticCustomError(
                "ha_timings",
                "timings cannot ride out an etcd leader election: lease_ttl_s = {ttl} s leaves "
                "{slack} s beyond the fencing budget of {budget} s, and an etcd election may "
                "take {election} s (twice etcd.election_timeout_s = {et} s), so losing etcd's "
                "leader would fence a healthy primary (hint: raise lease_ttl_s to {need} s or "
                "more, or shorten the loop or the timeouts; set etcd.election_timeout_s when "
                "etcd runs with another --election-timeout)",
                {
                    "ttl": f"{t.lease_ttl_s:g}",
                    "slack": f"{t.lease_ttl_s - budget:g}",
                    "budget": f"{budget:g}",
                    "election": f"{election:g}",
                    "et": f"{self.etcd.election_timeout_s:g}",
                    "need": f"{budget + election:g}",
                },
            )
        if t.check_timeout_s > t.check_interval_s:
            raise PydanticCustomError(
                "ha_timings",
                "check_timeout_s ({timeout} s) must not exceed check_interval_s ({interval} s)",
                {"timeout": f"{t.check_timeout_s:g}", "interval": f"{t.check_interval_s:g}"},
            )

    def _check_witness(self) -> None:
        databases = [n for n, s in self.sites.items() if s.database is not None]
        if self.witness is not None:
            if self.witness not in self.sites:
                raise PydanticCustomError(
                    "ha_witness",
                    "witness '{name}' is not one of the sites ({known})",
                    {"name": self.witness, "known": ", ".join(sorted(self.sites))},
                )
            if self.sites[self.witness].database is not None:
                raise PydanticCustomError(
                    "ha_witness",
                    "the witness '{name}' must not have a database",
                    {"name": self.witness},
                )
        if len(databases) < 2:
            raise PydanticCustomError(
                "ha_sites",
                "ha needs at least two sites with a database (found: {found})",
                {"found": ", ".join(databases) or "none"},
            )

    def database_sites(self) -> list[str]:
        return [n for n, s in self.sites.items() if s.database is not None]

    def observers_of(self, site: str) -> list[str]:
        """Every site but ``site`` votes on whether ``site`` is down (the witness too)."""
        return sorted(n for n in self.sites if n != site)
