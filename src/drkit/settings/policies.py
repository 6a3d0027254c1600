"""Backup policies in ``drkit.yaml``: what goes where, when, for how long, and the objectives.

```yaml
policies:
  app:
    sources: [/srv/app, /etc/app]
    repositories: [local, offsite]
    schedule: "0 2 * * *"
    retention: {daily: 7, weekly: 4, monthly: 12}
    repository_retention:
      offsite: {daily: 30, monthly: 24}   # keep more off-site
    rpo: 24h
    rto: 4h
    site: office                          # where the live data is
```
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from drkit.errors import UsageError
from drkit.plugins import PluginSettings, RegistryRef
from drkit.settings.cron import CronExpr
from drkit.settings.objectives import parse_objective
from drkit.settings.retention import RetentionPolicy, parse_duration
from drkit.settings.verification import VerificationSettings


def _objective(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_objective(value)
        except UsageError as exc:
            raise PydanticCustomError(
                "objective", "{problem} ({hint})", {"problem": exc.message, "hint": exc.hint}
            ) from None
    return value


Objective = Annotated[timedelta, BeforeValidator(_objective)]

SOURCES = RegistryRef("drkit.sources.registry", "SOURCES")
"""The source kind, by its registry's name (settings imports no domain)."""


def _source_entry(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A path stays a string; a mapping becomes the config model of the driver it names."""
    if isinstance(value, str):
        return value
    message = "a source is a path, or a mapping with `type:` one of {known}"
    return SOURCES.registry.parse(value, message=message)


if TYPE_CHECKING:
    PolicySource = str | PluginSettings
else:
    PolicySource = Annotated[str | SerializeAsAny[PluginSettings], WrapValidator(_source_entry)]
    """One entry of a policy's ``sources:``: a path string, or a typed source mapping.

    An error's location reads ``sources[1].postgres.dsn`` (the driver's tag kept).
    """


class RetentionSettings(BaseModel):
    """How many snapshots to keep; the same rules as ``drkit forget``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    last: int = Field(default=0, ge=0, description="Keep the newest N snapshots.")
    hourly: int = Field(default=0, ge=0, description="Keep one per hour for N hours.")
    daily: int = Field(default=0, ge=0, description="Keep one per day for N days.")
    weekly: int = Field(default=0, ge=0, description="Keep one per ISO week for N weeks.")
    monthly: int = Field(default=0, ge=0, description="Keep one per month for N months.")
    yearly: int = Field(default=0, ge=0, description="Keep one per year for N years.")
    within: str | None = Field(default=None, description="Keep all within this of the newest.")
    tags: list[str] = Field(default_factory=list, description="Keep snapshots with these tags.")

    def to_policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            last=self.last,
            hourly=self.hourly,
            daily=self.daily,
            weekly=self.weekly,
            monthly=self.monthly,
            yearly=self.yearly,
            within=parse_duration(self.within) if self.within else None,
            tags=frozenset(self.tags),
        )


class CopySettings(BaseModel):
    """Copy the policy's snapshots from one repository to others on a schedule."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", description="Repository to copy from.")
    to: list[str] = Field(min_length=1, description="Repositories to copy to.")
    schedule: CronExpr = Field(description="Cron expression for the copy.")


class PolicySettings(BaseModel):
    """One backup policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: list[PolicySource] = Field(
        min_length=1,
        description="Paths to back up, and typed sources such as "
        "{type: postgres, dsn: ...} (see docs/sources.md).",
    )
    repositories: list[str] = Field(min_length=1, description="Repository names (see above).")
    schedule: CronExpr | None = Field(default=None, description="Cron expression for backups.")
    retention: RetentionSettings | None = Field(default=None, description="Snapshots to keep.")
    repository_retention: dict[str, RetentionSettings] = Field(
        default_factory=dict, description="Retention for one repository instead of `retention`."
    )
    rpo: Objective | None = Field(default=None, description="Recovery point objective, e.g. 24h.")
    rto: Objective | None = Field(default=None, description="Recovery time objective, e.g. 4h.")
    site: str = Field(default="local", min_length=1, description="Site of the live data.")
    retention_schedule: CronExpr | None = Field(
        default=None,
        description="Cron expression for applying retention (forget + prune); "
        "default: right after each scheduled backup.",
    )
    copies: list[CopySettings] = Field(
        default_factory=list, description="Scheduled copies of snapshots between repositories."
    )
    verification: VerificationSettings = Field(
        default_factory=VerificationSettings,
        description="Checks, rotating reads and restore tests of the policy's repositories.",
    )

    def retention_for(self, repository: str) -> RetentionSettings | None:
        return self.repository_retention.get(repository, self.retention)
