"""Runbook settings in ``drkit.yaml``: where runbooks live and which drills run when.

```yaml
runbooks:
  dir: /etc/drkit/runbooks        # default: runbooks/ in drkit's home
  drills:
    - runbook: failover
      schedule: "0 3 * * 6"       # Saturdays 03:00, as in crontab
      inputs: {region: eu-west}
```

A relative ``dir`` is relative to the directory of ``drkit.yaml``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from drkit.settings.cron import CronExpr

RUNBOOK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
"""Runbook names (the file name without ``.yaml``): lowercase letters, digits, ``_`` and ``-``."""


def check_runbook_name(value: str) -> str:
    if RUNBOOK_NAME.fullmatch(value) is None:
        raise PydanticCustomError(
            "runbook_name",
            "invalid runbook name '{name}': use lowercase letters, digits, '_' and '-'",
            {"name": value},
        )
    return value


RunbookName = Annotated[str, AfterValidator(check_runbook_name)]


class DrillSettings(BaseModel):
    """A runbook run on a schedule as a drill: its recovery time is measured against the RTO."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    runbook: RunbookName = Field(description="Name of the runbook (its file name without .yaml).")
    schedule: CronExpr = Field(description="Cron expression: when the drill runs.")
    inputs: dict[str, str] = Field(default_factory=dict, description="Inputs of the runbook.")


class RunbookSettings(BaseModel):
    """Where the runbook files are and which of them are drilled on a schedule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dir: Path | None = Field(
        default=None,
        description="Directory of runbook YAML files; default: runbooks/ in drkit's home.",
    )
    drills: list[DrillSettings] = Field(default_factory=list, description="Scheduled drills.")
