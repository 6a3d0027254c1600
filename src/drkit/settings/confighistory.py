"""Configuration history settings in ``drkit.yaml``: sources, hosts, schedule, retention.

```yaml
config_history:
  schedule: "0 1 * * *"              # daily collection (the default)
  repositories: [nas, offsite]        # also write the versions into these repositories
  retention: {keep_versions: 200, keep_within: 365d}
  redact_keys: ["*_dsn"]              # more secret key names (globs), for every source
  redact_patterns: ['AKIA[0-9A-Z]{16}']  # more secret values (regular expressions)
  drkit_files: [/etc/drkit/hooks/*.sh]   # more files that are part of drkit's own config
  inventory:
    web1: {address: 10.0.0.5, user: backup, key: ~/.ssh/drkit, known_hosts: ~/.ssh/known_hosts}
  sources:
    - name: nginx
      host: web1                      # a name from the inventory, or "local" (the default)
      paths: [/etc/nginx/nginx.conf, /etc/nginx/conf.d/*.conf]
      ignore_lines: ['^# generated at ']
      ignore_keys: [last_updated]
```
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from drkit.settings.cron import CronExpr
from drkit.settings.policies import Objective

LOCAL_HOST = "local"
"""The host name of sources read from this machine's own file system."""

SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
DEFAULT_MAX_FILE_SIZE = 4 * 1024 * 1024


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise PydanticCustomError(
            "regex",
            "'{pattern}' is not a regular expression: {problem}",
            {
                "pattern": value,
                "problem": str(exc),
            },
        ) from None
    return value


def _check_name(value: str) -> str:
    if SOURCE_NAME.fullmatch(value) is None:
        raise PydanticCustomError(
            "source_name",
            "invalid name '{name}': use lowercase letters, digits, '_' and '-'",
            {"name": value},
        )
    return value


def _check_absolute(value: str) -> str:
    if not value.startswith("/"):
        raise PydanticCustomError(
            "absolute_path", "'{path}' must be an absolute path (or glob)", {"path": value}
        )
    return value


Regex = Annotated[str, AfterValidator(_check_regex)]
Name = Annotated[str, AfterValidator(_check_name)]
AbsolutePattern = Annotated[str, AfterValidator(_check_absolute)]


class HostSettings(_Frozen):
    """A server reached over SSH (key login, host key checked against known_hosts)."""

    address: str = Field(description="Host name or IP address.")
    port: int = Field(default=22, ge=1, le=65535, description="SSH port.")
    user: str | None = Field(default=None, description="Login name; default: the OS user.")
    key: str | None = Field(
        default=None, description="Private key file; default: ssh-agent and ~/.ssh keys."
    )
    known_hosts: str = Field(
        default="~/.ssh/known_hosts", description="known_hosts file that must hold the host key."
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for the server.")


class SourceSettings(_Frozen):
    """Configuration files collected from one host."""

    name: Name = Field(description="Name of the source, shown in listings and alerts.")
    host: str = Field(default=LOCAL_HOST, description="Inventory host name, or 'local'.")
    paths: list[AbsolutePattern] = Field(
        min_length=1, description="Absolute paths or globs (*, ?, [..], ** for any depth)."
    )
    ignore_lines: list[Regex] = Field(
        default_factory=list, description="Lines matching these are not compared (timestamps)."
    )
    ignore_keys: list[str] = Field(
        default_factory=list, description="Keys (globs on names or dotted paths) not compared."
    )
    redact_keys: list[str] = Field(
        default_factory=list, description="More key names (globs) whose values are secrets."
    )
    redact_patterns: list[Regex] = Field(
        default_factory=list, description="More secret values: regular expressions."
    )
    max_file_size: int = Field(
        default=DEFAULT_MAX_FILE_SIZE, ge=1, description="Larger files fail the collection."
    )


class HistoryRetention(_Frozen):
    """Which versions to keep per file; the newest version of each is always kept."""

    keep_versions: int | None = Field(
        default=None, ge=1, description="Keep the newest N versions of each file; None: all."
    )
    keep_within: Objective | None = Field(
        default=None, description="Keep every version younger than this (e.g. 90d); None: all."
    )

    @property
    def keeps_everything(self) -> bool:
        return self.keep_versions is None and self.keep_within is None


class ConfigHistorySettings(_Frozen):
    """Versioned configuration: drkit's own and files collected from servers."""

    schedule: CronExpr = Field(default="0 1 * * *", description="When the daemon collects.")
    sources: list[SourceSettings] = Field(default_factory=list, description="File sources.")
    inventory: dict[Name, HostSettings] = Field(
        default_factory=dict, description="Hosts reached over SSH, by name."
    )
    retention: HistoryRetention = Field(default_factory=HistoryRetention)
    repositories: list[str] = Field(
        default_factory=list, description="Repositories that also receive every version."
    )
    redact_keys: list[str] = Field(
        default_factory=list, description="More secret key names (globs) for every file."
    )
    redact_patterns: list[Regex] = Field(
        default_factory=list, description="More secret values (regular expressions)."
    )
    drkit_files: list[str] = Field(
        default_factory=list,
        description="More files (globs; relative to drkit.yaml) versioned with drkit's config.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ConfigHistorySettings:
        names = [s.name for s in self.sources]
        for name in sorted({n for n in names if names.count(n) > 1}):
            raise PydanticCustomError(
                "duplicate_source", "two sources are named '{name}'", {"name": name}
            )
        if LOCAL_HOST in self.inventory:
            raise PydanticCustomError(
                "reserved_host", "'local' is reserved for this machine: rename that host"
            )
        known = sorted(self.inventory)
        for source in self.sources:
            if source.host != LOCAL_HOST and source.host not in self.inventory:
                raise PydanticCustomError(
                    "unknown_host",
                    "source '{source}' names host '{host}', which is not in the inventory "
                    "(known: {known})",
                    {
                        "source": source.name,
                        "host": source.host,
                        "known": ", ".join(known) or "none",
                    },
                )
        return self
