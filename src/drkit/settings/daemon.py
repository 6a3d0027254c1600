"""Settings of the daemon (`drkit serve`), its catalog and its alerts.

```yaml
catalog:
  url: postgresql://drkit@db.internal/drkit   # default: SQLite under DRKIT_HOME
daemon:
  listen: 127.0.0.1:9464      # /metrics and /healthz
  max_parallel_jobs: 2
  scan_interval: 15m          # re-read snapshot lists of every repository
  monitor_interval: 1m        # evaluate RPO/RTO/3-2-1 and alert rules
  control_plane:              # two `drkit serve` (two sites), one active through etcd
    name: us-east             # this serve's name (default: the host name; --name)
    etcd: {endpoints: ["http://10.0.0.1:2379", "http://10.0.1.1:2379"]}
    lease_ttl_s: 10
  tls:                        # serve the API and dashboard over HTTPS
    cert: /etc/drkit/tls/cert.pem   # PEM, the chain after the certificate
    key: /etc/drkit/tls/key.pem
  allow_insecure_http: false  # plain HTTP off loopback is refused unless true
alerts:
  repeat_interval: 4h         # re-send an open alert this often
  notifiers: [ops-mail, pager]  # default: every notifier in `notifiers`
```
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from drkit.settings.ha import EtcdSettings
from drkit.settings.policies import Objective

SERVE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CatalogSettings(_Frozen):
    """Where the catalog lives."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (sqlite:///PATH or postgresql://...); "
        "default: SQLite file catalog.db in drkit's home.",
    )


class ControlPlaneSettings(_Frozen):
    """Several `drkit serve` (one per site) sharing one catalog; the etcd lease holder is active.

    Only the active serve starts scheduled jobs and sends alerts; the others
    serve the API and dashboard and take over when the lease expires.
    """

    name: str | None = Field(
        default=None,
        pattern=SERVE_NAME,
        description="This serve's name, unique among the serves (default: the host name; "
        "`drkit serve --name` overrides).",
    )
    cluster: str = Field(
        default="drkit",
        pattern=SERVE_NAME,
        description="The serves that share a catalog share this name (etcd keys "
        "/drkit/serve.<cluster>/).",
    )
    etcd: EtcdSettings = Field(description="The etcd cluster, as under ha.etcd.")
    lease_ttl_s: float = Field(default=10.0, ge=2, le=3600, description="Lease time to live.")
    loop_interval_s: float = Field(default=1.0, gt=0, description="Renew the lease every ...")
    etcd_timeout_s: float = Field(default=1.0, gt=0, description="One etcd request may take ...")
    safety_margin_s: float = Field(default=1.0, ge=0, description="Kept free for clock jitter.")

    @model_validator(mode="after")
    def _fences_in_time(self) -> Self:
        budget = control_plane_budget_s(self)
        if budget >= self.lease_ttl_s:
            raise PydanticCustomError(
                "control_plane_timings",
                "timings cannot fence in time: loop_interval_s + etcd_timeout_s + "
                "safety_margin_s = {budget} s must be below lease_ttl_s = {ttl} s (hint: raise "
                "lease_ttl_s above {budget} s, or shorten the loop or the etcd timeout)",
                {"budget": f"{budget:g}", "ttl": f"{self.lease_ttl_s:g}"},
            )
        return self


def control_plane_budget_s(cp: ControlPlaneSettings) -> float:
    """Seconds from the active serve's last good renewal to its next one failing, worst case.

    The next renewal starts one loop later and may take the whole etcd
    timeout; the margin absorbs jitter. The active serve trusts its lease only
    until ``renewed + ttl - margin``: with the budget below the TTL a healthy
    serve renews before that, and one that cannot stops starting jobs before
    etcd can hand the lease to another serve (the HA agent's arithmetic).
    """
    return cp.loop_interval_s + cp.etcd_timeout_s + cp.safety_margin_s


class TlsSettings(_Frozen):
    """The certificate and key `drkit serve` answers HTTPS with."""

    cert: Path = Field(description="PEM certificate (with its chain after it).")
    key: Path = Field(description="PEM private key of the certificate.")


class DaemonSettings(_Frozen):
    """How `drkit serve` runs."""

    listen: str = Field(
        default="127.0.0.1:9464", description="HOST:PORT for /metrics and /healthz; '' for none."
    )
    max_parallel_jobs: int = Field(default=2, ge=1, le=64, description="Jobs running at once.")
    scan_interval: Objective = Field(
        default=timedelta(minutes=15), description="How often to re-read snapshot lists."
    )
    monitor_interval: Objective = Field(
        default=timedelta(minutes=1), description="How often to evaluate alert rules."
    )
    job_timeout: Objective = Field(
        default=timedelta(hours=12), description="A job running longer than this is stopped."
    )
    control_plane: ControlPlaneSettings | None = Field(
        default=None,
        description="Several serves over one PostgreSQL catalog, one active through etcd.",
    )
    tls: TlsSettings | None = Field(
        default=None, description="Serve the API and dashboard over HTTPS with this certificate."
    )
    allow_insecure_http: bool = Field(
        default=False,
        description="Allow plain HTTP on an address other than loopback (tokens and "
        "passwords then cross the network readable).",
    )

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value == "":
            return value
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise PydanticCustomError(
                "listen", "listen must be HOST:PORT such as 127.0.0.1:9464, or '' to disable"
            )
        return value


class AlertSettings(_Frozen):
    """How alerts are sent."""

    repeat_interval: Objective = Field(
        default=timedelta(hours=4), description="Re-send an open alert this often."
    )
    notifiers: list[str] | None = Field(
        default=None, description="Notifiers to use (names under `notifiers`); default all."
    )
