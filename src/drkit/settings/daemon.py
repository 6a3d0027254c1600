"""Settings of the daemon (`drkit serve`), its catalog and its alerts.

```yaml
catalog:
  url: postgresql://drkit@db.internal/drkit   # default: SQLite under DRKIT_HOME
daemon:
  listen: 127.0.0.1:9464      # /metrics and /healthz
  max_parallel_jobs: 2
  scan_interval: 15m          # re-read snapshot lists of every repository
  monitor_interval: 1m        # evaluate RPO/RTO/3-2-1 and alert rules
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

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from drkit.settings.policies import Objective


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CatalogSettings(_Frozen):
    """Where the catalog lives."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (sqlite:///PATH or postgresql://...); "
        "default: SQLite file catalog.db in drkit's home.",
    )


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
