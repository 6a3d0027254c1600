"""Verification settings of a policy: checks, the rotating read, full reads and restore tests.

```yaml
policies:
  app:
    ...
    verification:
      check: "0 4 * * *"            # structure check, daily (null: never)
      read_subset:                  # read every pack once per period, a slice per run
        schedule: "0 3 * * *"       # null (the default): off
        period: 30d
        by: bytes                   # share each run by bytes (even time) or by pack count
      read_data: "0 5 * * 0"        # read all data, weekly (null: never)
      restore_test:
        schedule: "0 6 * * 6"       # null (the default): off
        window: 7d                  # a random snapshot of the last 7 days (null: the newest)
        scratch: /var/tmp/drkit     # where to restore (default: $DRKIT_HOME/scratch)
        validate:                   # commands run on the restore, in order
          - [sqlite3, "{dir}/srv/app/app.db", "pragma integrity_check"]
          - "sh -c 'test -s $DRKIT_RESTORE_DIR/srv/app/config.yaml'"
        timeout: 1h                 # longest one validation command may run
```

Durations use the objective syntax (``30s``, ``15m``, ``4h``, ``30d``, ``2w``).
A validation command is an argv list, or a string split like a shell would
(without running one). The model lives here, not in ``policies.py``, so the
verification domain owns its settings; ``PolicySettings.verification`` holds
one. :func:`verification_of` reads it from any policy.
"""

from __future__ import annotations

import shlex
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from croniter import croniter
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from drkit.errors import UsageError
from drkit.settings.objectives import parse_objective

DEFAULT_CHECK = "0 4 * * *"
DEFAULT_READ_DATA = "0 5 * * 0"


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_objective(value)
        except UsageError as exc:
            raise PydanticCustomError(
                "duration", "{problem} ({hint})", {"problem": exc.message, "hint": exc.hint}
            ) from None
    return value


def _cron(value: str) -> str:
    if not croniter.is_valid(value):
        raise PydanticCustomError(
            "cron",
            "'{value}' is not a cron expression (five fields: minute hour day month weekday, "
            'e.g. "0 4 * * *")',
            {"value": value},
        )
    return value


def _argv(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise PydanticCustomError(
                "argv", "cannot split the command: {why}", {"why": str(exc)}
            ) from None
    return value


def _expand_user(value: Path) -> Path:
    return value.expanduser()


Duration = Annotated[timedelta, BeforeValidator(_duration)]
ScratchPath = Annotated[Path, AfterValidator(_expand_user)]
Cron = Annotated[str, AfterValidator(_cron)]
Argv = Annotated[list[str], BeforeValidator(_argv), Field(min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ReadSubsetSettings(_Frozen):
    """The rotating read: every pack read once per ``period``, a share on each scheduled run."""

    schedule: Cron | None = Field(default=None, description="Cron expression; null: off.")
    period: Duration = Field(
        default=timedelta(days=30), description="Every pack is read at least once per period."
    )
    by: Literal["bytes", "count"] = Field(
        default="bytes", description="Share the packs per run by bytes or by count."
    )

    def interval(self, now: datetime) -> timedelta | None:
        """The time between two runs of the schedule around ``now`` (None when off)."""
        return cron_interval(self.schedule, now) if self.schedule else None


class RestoreTestSettings(_Frozen):
    """Scheduled restore tests: restore a snapshot, verify it, validate it, time it."""

    schedule: Cron | None = Field(default=None, description="Cron expression; null: off.")
    window: Duration | None = Field(
        default=None, description="Test a random snapshot of this last stretch; null: the newest."
    )
    scratch: ScratchPath | None = Field(
        default=None, description="Directory to restore under; null: $DRKIT_HOME/scratch."
    )
    validation_commands: list[Argv] = Field(
        default_factory=list,
        alias="validate",
        description="Commands run on the restored data ({dir} and $DRKIT_RESTORE_DIR).",
    )
    timeout: Duration = Field(
        default=timedelta(hours=1), description="Longest one validation command may run."
    )


class VerificationSettings(_Frozen):
    """When a policy's repositories are checked, read and restore-tested."""

    check: Cron | None = Field(default=DEFAULT_CHECK, description="Structure check; null: never.")
    read_subset: ReadSubsetSettings = Field(default_factory=ReadSubsetSettings)
    read_data: Cron | None = Field(
        default=DEFAULT_READ_DATA, description="Full read of all data; null: never."
    )
    restore_test: RestoreTestSettings = Field(default_factory=RestoreTestSettings)


def cron_interval(schedule: str, now: datetime) -> timedelta:
    """The gap between the next two times ``schedule`` fires after ``now``."""
    it = croniter(schedule, now)
    first = it.get_next(datetime)
    return it.get_next(datetime) - first


def verification_of(policy: object) -> VerificationSettings:
    """A policy's ``verification`` settings, or the defaults when it has none."""
    found = getattr(policy, "verification", None)
    return found if isinstance(found, VerificationSettings) else VerificationSettings()
