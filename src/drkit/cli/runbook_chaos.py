"""`drkit runbook run --chaostoolkit FILE`: Chaos Toolkit experiments run as runbooks."""

from __future__ import annotations

from pathlib import Path

from drkit.cli.context import State
from drkit.errors import UsageError


def run_experiment(
    state: State, file: Path, journal: Path | None, *, dry_run: bool, json_output: bool
) -> None:
    raise UsageError("running Chaos Toolkit experiments is not available yet")
