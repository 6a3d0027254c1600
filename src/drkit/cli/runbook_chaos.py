"""`drkit runbook run --chaostoolkit FILE`: a Chaos Toolkit experiment run as a runbook.

The experiment runs on drkit's runner (journaled in the catalog, resumable,
timed); its journal is written in Chaos Toolkit's format. Like `chaos run`,
the command fails (exit 61) when the run did not complete (a hypothesis
probe raised, or it was interrupted) or the steady state deviated after the
method. A steady state not met before the method is, as for `chaos run`, a
completed run in which the method did not run: exit 0, with a warning.
"""

from __future__ import annotations

import json
from pathlib import Path

from drkit.cli.context import State
from drkit.cli.output import Output, out, print_json, warn
from drkit.cli.runbook_start import print_plan, start


def run_experiment(
    state: State,
    file: Path,
    journal_file: Path | None,
    *,
    dry_run: bool,
    output: Output,
    rollback_strategy: str = "default",
) -> None:
    from drkit.catalog.runs import get_run
    from drkit.runbooks import versions
    from drkit.runbooks.chaostoolkit.experiment import load_experiment
    from drkit.runbooks.chaostoolkit.journal import ctk_journal
    from drkit.runbooks.chaostoolkit.mapping import RollbackStrategy, to_runbook
    from drkit.runbooks.errors import StepFailed

    experiment = load_experiment(file)
    for warning in experiment.warnings:
        warn(warning)
    loaded = to_runbook(experiment, RollbackStrategy(rollback_strategy))
    if dry_run:
        print_plan(loaded.runbook, {}, output)
        return
    versions.record(state.catalog(), loaded)
    report = start(state, loaded.runbook, {}, drill=False, output=output)
    view = get_run(state.catalog(), report.run_id)
    journal = ctk_journal(view, loaded.runbook, experiment.document)
    if journal_file is not None:
        journal_file.write_text(json.dumps(journal, indent=2, default=str) + "\n")
    if output.json:
        print_json(journal)
    else:
        deviated = " (deviated)" if journal["deviated"] else ""
        out.print(f"experiment {experiment.experiment.title!r}: {journal['status']}{deviated}, "
                  f"run {report.run_id}")  # fmt: skip
    if not journal["drkit"]["steady_state_met_before"]:
        warn(
            f"the steady state was not met before the method: the method did not run "
            f"(`drkit runs show {report.run_id}`)"
        )
    if journal["status"] != "completed" or journal["deviated"]:
        title = experiment.experiment.title
        raise StepFailed(
            f"experiment {title!r}: the steady state deviated after the method"
            if journal["deviated"]
            else f"experiment {title!r} ended {journal['status']}",
            hint=f"`drkit runs show {report.run_id}` shows each activity",
        )
