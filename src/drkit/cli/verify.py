"""`drkit verify restore-test` and `drkit verify subset`: proving backups, on demand.

The work is done by :mod:`drkit.services.restore_test` (and
:mod:`drkit.verify` for the rotating read); this module parses options, prints
steps as they end, renders the result (table or ``--json``) and picks the
exit code: 32 when a restore test fails, 34 when it cannot start for want
of scratch space, 13 when the rotating read finds a damaged pack.
Without a catalog, the rotation remembers its reads in JSON files under
``$DRKIT_HOME/verify``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from drkit.cli.context import State
from drkit.cli.output import Output, err, human_bytes, out
from drkit.errors import IntegrityError, UsageError
from drkit.policy.objectives import parse_objective
from drkit.services import restore_test as service
from drkit.services.drill import seconds
from drkit.services.progress import Counter, Progress
from drkit.services.restore_test import RestoreOptions, RestoreTestRequest
from drkit.verify.ledger_catalog import CatalogPackCheckLedger
from drkit.verify.restore_test import RestoreTestResult
from drkit.verify.steps import StepResult
from drkit.verify.subset import Budget, Rotation, SubsetCheckResult, run_subset_check
from drkit.verify.validation import ValidationCommand

verify_app = typer.Typer(
    name="verify", no_args_is_help=True, help="prove backups: restore tests, rotating reads"
)

ValidateOption = Annotated[
    list[str] | None,
    typer.Option(
        "--validate",
        metavar="CMD",
        help="command run on the restored data (repeatable); {dir} and $DRKIT_RESTORE_DIR "
        "name the restore directory",
    ),
]
ScratchOption = Annotated[
    Path | None,
    typer.Option(help="restore under this directory (default: $DRKIT_HOME/scratch)"),
]
TimeoutOption = Annotated[
    str | None, typer.Option(help="longest one validation command may run, e.g. 30m (default 1h)")
]


def register(app: typer.Typer) -> None:
    app.add_typer(verify_app, name="verify", help="prove backups: restore tests, rotating reads")


# -- restore-test ---------------------------------------------------------------------


@verify_app.command("restore-test")
def restore_test(
    ctx: typer.Context,
    snapshot: Annotated[
        str | None, typer.Option(help="snapshot id prefix or `latest` (default: latest)")
    ] = None,
    window: Annotated[
        str | None, typer.Option(help="test a random snapshot of the last DURATION, e.g. 7d")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="only snapshots with this tag")] = None,
    path: Annotated[str | None, typer.Option(help="only snapshots holding this path")] = None,
    policy: Annotated[
        str | None,
        typer.Option(help="a policy's snapshots, with its restore_test settings as defaults"),
    ] = None,
    validate: ValidateOption = None,
    scratch: ScratchOption = None,
    timeout: TimeoutOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Restore a snapshot into scratch space, read it back, validate it, time it, clean up."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    request = RestoreTestRequest(
        snapshot=snapshot,
        window=_duration(window, "--window") if window else None,
        tags=tuple(tag or []),
        path=path,
        policy=policy,
        options=restore_options(validate, scratch, timeout),
    )
    with output.progress() as progress:
        result = service.restore_test(state.use(), request, progress=StepLines(progress, output))
    output.render(result, lambda r: render_restore_test(r, output.quiet))
    failure = service.restore_test_failure(result)
    if failure is not None:
        raise failure


def restore_options(
    validate: list[str] | None, scratch: Path | None, timeout: str | None
) -> RestoreOptions:
    """The options a restore test or drill takes over the settings."""
    return RestoreOptions(
        validate=tuple(_command(text) for text in validate) if validate else None,
        scratch=scratch,
        timeout=_duration(timeout, "--timeout") if timeout else None,
    )


def _command(text: str) -> ValidationCommand:
    try:
        command = ValidationCommand.parse(text)
    except ValueError as exc:
        raise UsageError(f"cannot split --validate {text!r}: {exc}") from None
    if not command.argv:
        raise UsageError("--validate needs a command", hint='e.g. --validate "test -d {dir}"')
    return command


def _duration(text: str, option: str) -> timedelta:
    try:
        return parse_objective(text)
    except UsageError as exc:
        raise UsageError(f"{option}: {exc.message}", hint=exc.hint) from None


class StepLines:
    """The output's progress, each step printed to stderr as it ends (text on a terminal)."""

    def __init__(self, inner: Progress, output: Output) -> None:
        self.inner = inner
        self.show = output.text and sys.stderr.isatty()

    @property
    def wants_totals(self) -> bool:
        return bool(getattr(self.inner, "wants_totals", False))

    def phase(self, name: str) -> None:
        self.inner.phase(name)

    def advance(self, done: int, total: int | None = None) -> None:
        self.inner.advance(done, total)

    def warn(self, message: str) -> None:
        self.inner.warn(message)

    def step_ended(self, step: StepResult) -> None:
        if self.show:
            mark = Text("ok", "green") if step.ok else Text("failed", "red")
            err.print(Text.assemble(f"{step.name}: ", mark, f" in {seconds(step.duration_s)}"))


# -- rendering ------------------------------------------------------------------------


def steps_table(result: RestoreTestResult) -> Table:
    table = Table(box=None, padding=(0, 2))
    for col in ("step", "started", "duration", "result", "detail"):
        table.add_column(col)
    for s in result.steps:
        table.add_row(  # Text, not str: commands may hold [brackets] that are not markup
            Text(s.name),
            f"{s.started_at:%H:%M:%S}",
            seconds(s.duration_s),
            Text("ok", "green") if s.ok else Text("failed", "red"),
            Text(s.error or s.detail),
        )
    return table


def render_restore_test(result: RestoreTestResult, quiet: bool) -> None:
    for p in result.problems:
        out.print(Text.assemble(("problem: ", "red"), f"{p.path}: {p.reason}"))
    failed = result.failed_step
    if failed is not None and failed.output_tail:
        out.print(Text(f"output of {failed.name}:", "dim"))
        out.print(failed.output_tail.rstrip(), markup=False)
    if quiet and result.passed:
        return
    out.print(steps_table(result))
    verdict = Text("PASSED", "green") if result.passed else Text("FAILED", "red")
    out.print(
        Text.assemble(
            verdict,
            f" snapshot {result.snapshot_id[:8]} of {result.snapshot_time:%Y-%m-%d %H:%M}"
            f" from {result.repository or 'the repository'}: {result.files} files, "
            f"{human_bytes(result.bytes)}; recovery time {seconds(result.rto_s)}",
        )
    )


# -- subset ---------------------------------------------------------------------------


@verify_app.command("subset")
def subset(
    ctx: typer.Context,
    period: Annotated[str, typer.Option(help="read every pack at least once per DURATION")] = "30d",
    interval: Annotated[str, typer.Option(help="how often this command runs")] = "1d",
    by: Annotated[Budget, typer.Option(help="share the packs per run by bytes or count")] = (
        Budget.BYTES
    ),
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Check the structure and read this run's share of a rotation over all packs."""
    state: State = ctx.obj
    output = state.output_for(json_output)
    rotation = Rotation(_duration(period, "--period"), _duration(interval, "--interval"), by)
    repo = state.open_repo(load_index=False)
    ledger = CatalogPackCheckLedger(state.catalog())
    with output.progress() as progress:
        result = run_subset_check(
            repo, ledger, rotation, now=datetime.now(UTC), progress=Counter(progress)
        )
    output.render(result, lambda r: _render_subset(r, output.quiet))
    if not result.ok:
        damaged = ", ".join(r.name[:12] for r in result.damaged) or "none"
        raise IntegrityError(
            f"the rotating read found problems (damaged packs: {damaged})",
            hint="`drkit check --read-data` shows every damaged blob and the files it affects",
        )


def _render_subset(result: SubsetCheckResult, quiet: bool) -> None:
    for r in result.damaged:
        for problem in r.problems:
            out.print(Text.assemble(("error: ", "red"), problem))
    for problem in result.other_problems:
        out.print(Text.assemble(("error: ", "red"), problem))
    if quiet and result.ok:
        return
    out.print(
        f"read {len(result.results)} of {result.packs_total} packs "
        f"({human_bytes(result.bytes_read)} of {human_bytes(result.bytes_total)}) "
        f"in {seconds(result.duration_s)}; {len(result.damaged)} damaged; "
        f"{len(result.overdue)} not read intact within the period",
        markup=False,
    )
