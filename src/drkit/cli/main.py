"""Entry point: global options, command registration, and error reporting.

Every DrkitError ends the process with its own exit code after printing its
message and hint on stderr; the traceback only with ``--debug``. Exit codes
are listed in docs/cli.md.
"""

from __future__ import annotations

import logging
import signal
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from drkit import __version__
from drkit.cli.context import State
from drkit.cli.lazy import LazyGroup
from drkit.cli.output import err
from drkit.errors import DrkitError
from drkit.scheduler.lifeline import follow_parent

app = typer.Typer(
    cls=LazyGroup,  # commands import their modules only when they run (see cli/lazy.py)
    name="drkit",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="drkit: backups you can prove, failover you can trust.",
)


def _version(value: bool) -> None:
    if value:
        print(f"drkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    repo: Annotated[
        str | None,
        typer.Option(
            "--repo", "-r", envvar="DRKIT_REPO", help="repository URL, path, or name in drkit.yaml"
        ),
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file", envvar="DRKIT_PASSWORD_FILE", help="read the passphrase from FILE"
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", envvar="DRKIT_CONFIG", help="settings file (drkit.yaml)"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress, less output")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")
    ] = False,
) -> None:
    setup_logging(quiet=quiet, debug=debug)
    ctx.obj = state = State(
        repo=repo, password_file=password_file, config=config, quiet=quiet, debug=debug
    )
    ctx.call_on_close(state.close)


class _WarningFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def setup_logging(*, quiet: bool, debug: bool) -> None:
    """drkit's loggers (storage retries, locks, ...) print to stderr as `warning: ...`."""
    logger = logging.getLogger("drkit")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_WarningFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING)


_GLOBAL_FLAGS = {"--quiet", "-q", "--debug"}
_GLOBAL_OPTIONS = {"--repo", "-r", "--password-file", "--config"}


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options written after the command to the front, as restic allows."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        name = arg.split("=", 1)[0]
        if arg in _GLOBAL_FLAGS or (name in _GLOBAL_OPTIONS and "=" in arg):
            front.append(arg)
        elif arg in _GLOBAL_OPTIONS and i + 1 < len(args):
            front += args[i : i + 2]
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    follow_parent()  # a step of `drkit serve` stops when the daemon dies
    args = hoist_global_options(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _catch_stop_signals()
    try:
        app(args)  # standalone: Typer prints usage errors and exits with their codes
    except DrkitError as exc:
        if debug:
            traceback.print_exc()
        err.print(f"[red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err.print(f"[dim]hint:[/] {exc.hint}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _report_interrupt(args, _stopped_by or signal.SIGINT)
    except SystemExit:
        # Typer turns KeyboardInterrupt into Exit(130) before it reaches us
        if _stopped_by is None:
            raise
        _report_interrupt(args, _stopped_by)
    except BrokenPipeError:
        sys.exit(0)


_stopped_by: signal.Signals | None = None


def _catch_stop_signals() -> None:
    """SIGINT and SIGTERM unwind the command like Ctrl-C (locks released, staged files
    removed, runs journaled as interrupted), then drkit says what stopped and why."""

    def handler(signum: int, _frame: object) -> None:
        global _stopped_by
        _stopped_by = signal.Signals(signum)
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler):
            signal.signal(sig, handler)


def _report_interrupt(args: list[str], sig: signal.Signals) -> None:
    command = _command_name(args)
    err.print(
        f"[red]error:[/] drkit {command} was interrupted by {sig.name}; it stopped before "
        "finishing (nothing half-written is visible: a backup saved no snapshot, a restore "
        "left some files unrestored)",
        highlight=False,
    )
    err.print(
        "[dim]hint:[/] run the command again; data already stored is reused, and "
        "`drkit prune` removes what an interrupted backup left unreferenced",
        highlight=False,
    )
    sys.exit(128 + sig.value)


def _command_name(args: list[str]) -> str:
    """The command words of ``args`` (global options are in front after hoisting)."""
    words: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GLOBAL_OPTIONS:
            i += 2
            continue
        if arg.startswith("-"):
            if words:
                break
            i += 1
            continue
        words.append(arg)
        if len(words) == 2 or arg not in _GROUPS:
            break
        i += 1
    return " ".join(words) or "(no command)"


_GROUPS = {"key", "repair", "db", "pg", "config", "user", "runbook", "verify", "drill", "notify"}
