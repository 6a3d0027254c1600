"""What the `drkit runbook` commands share: the runbook directory, loading, versions, printing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from drkit.cli.context import State
from drkit.cli.output import Output, err
from drkit.errors import UsageError

if TYPE_CHECKING:
    from drkit.catalog.runs import StepStatus
    from drkit.runbooks.journal import Phase
    from drkit.runbooks.loader import LoadedRunbook
    from drkit.runbooks.model import Runbook, Step
    from drkit.runbooks.service import RunbookLoader
    from drkit.runbooks.store import RunbookStore

STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "interrupted": "yellow",
    "cancelled": "yellow",
    "running": "cyan",
    "waiting": "magenta",
    "skipped": "dim",
}


def store(state: State) -> RunbookStore:
    from drkit.runbooks.store import RunbookStore, runbook_dir

    return RunbookStore(runbook_dir(state.settings, state.settings_file, state.home))


def load_current(state: State, name: str) -> LoadedRunbook:
    """The runbook file ``name``, recorded as a version if it changed."""
    from drkit.runbooks import versions

    loaded = store(state).load(name)
    versions.record(state.catalog(), loaded)
    return loaded


def version_loader(state: State) -> RunbookLoader:
    """(name, version) -> the runbook as recorded in the catalog."""
    from drkit.runbooks import versions

    def load(name: str, version: str) -> Runbook:
        return versions.load_version(state.catalog(), name, version).runbook

    return load


def parse_inputs(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--input {pair!r} is not NAME=VALUE", hint="e.g. --input site=b")
        values[key.strip()] = value
    return values


def export_config(state: State) -> None:
    """Child processes (drkit.* steps) use the same drkit.yaml as this command."""
    found = state.settings_file
    if found is not None:
        os.environ["DRKIT_CONFIG"] = str(Path(found).resolve())


def styled(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


class Progress:
    """Prints each step as it starts and ends, on stderr (nothing with --quiet)."""

    def __init__(self, output: Output) -> None:
        self.quiet = output.quiet

    def step_started(self, step: Step, phase: Phase) -> None:
        if not self.quiet:
            where = "rollback " if phase == "rollback" else ""
            err.print(
                f"[cyan]>[/] {where}{step.id}: {step.title if step.name else ''}".rstrip(": ")
            )

    def step_finished(
        self, step: Step, phase: Phase, status: StepStatus, error: str | None, seconds: float
    ) -> None:
        if self.quiet:
            return
        tail = f": {error}" if error else ""
        err.print(f"  {step.id} {styled(status.value)} in {seconds:.1f}s{tail}", highlight=False)
