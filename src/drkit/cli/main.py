"""Entry point: global options, command registration, and error reporting.

Every DrkitError ends the process with its own exit code after printing its
message and hint on stderr; the traceback only with ``--debug``. Exit codes
are listed in docs/cli.md.
"""

from __future__ import annotations

import gc
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from drkit.cli import help_format
from drkit.cli.context import State
from drkit.cli.lazy import LazyGroup
from drkit.cli.output import err
from drkit.errors import DrkitError
from drkit.logs import log_error_if_json, setup_command_logging
from drkit.scheduler.lifeline import follow_parent

help_format.install()  # flags show no `<bool>` in --help

app = typer.Typer(
    cls=LazyGroup,  # commands import their modules only when they run (see cli/lazy.py)
    name="drkit",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
    pretty_exceptions_enable=False,
    help="drkit: backups you can prove, failover you can trust.",
)


def _version(value: bool) -> None:
    if value:
        from drkit.about import version_text

        print(version_text())
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
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="print the version, repository format and catalog schema",
        ),
    ] = False,
) -> None:
    setup_command_logging(quiet=quiet, debug=debug)
    ctx.obj = state = State(
        repo=repo, password_file=password_file, config=config, quiet=quiet, debug=debug
    )
    ctx.call_on_close(state.close)


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


def command_name(args: list[str]) -> str | None:
    """The command word of ``args`` (after the global options hoisted to the front)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GLOBAL_OPTIONS:
            i += 2
        elif arg in _GLOBAL_FLAGS or arg.split("=", 1)[0] in _GLOBAL_OPTIONS:
            i += 1
        else:
            return None if arg.startswith("-") else arg
    return None


def _fetch_status(status: int | str | None) -> int:
    from drkit.sources.wal_push import restore_command_status

    return restore_command_status(status)


def _fetch_error(exc: DrkitError) -> DrkitError:
    from drkit.sources.wal_push import fetch_failure

    return fetch_failure(exc)


class Terminated(KeyboardInterrupt):
    """SIGTERM (systemd, `timeout`, kill) while a command runs: unwound like Ctrl-C."""


TERMINATED_EXIT = 143  # 128 + SIGTERM, what a shell reports for a killed process
INTERRUPTED_EXIT = 130  # 128 + SIGINT
_stopped_by: list[str] = []  # the signal that stopped the command (Typer hides the exception)


def _on_signal(signum: int, frame: object) -> None:
    import signal

    if signum == signal.SIGTERM:
        _stopped_by.append("SIGTERM")
        raise Terminated()
    _stopped_by.append("SIGINT")
    raise KeyboardInterrupt()


def handle_signals() -> None:
    """Make SIGTERM stop a command the way SIGINT does: every ``finally`` and context
    manager runs (temporary copies removed, locks released, child tools stopped), and
    the command says so (exit 143 for SIGTERM, 130 for SIGINT)."""
    import signal

    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _on_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_signal)


def _stopped_exit(args: list[str]) -> int:
    """Say what stopped the command, and why nothing half-done is visible; its exit code."""
    terminated = _stopped_by[0] == "SIGTERM"
    how = "SIGTERM (terminated)" if terminated else "SIGINT (Ctrl-C)"
    err.print(
        f"[red]error:[/] drkit {_command_name(args)} was interrupted by {how}; it stopped "
        "before finishing, and its locks and temporary files were removed (a backup saved "
        "no snapshot, a restore left some files unrestored)",
        highlight=False,
    )
    err.print(
        "[dim]hint:[/] run the command again; data already stored is reused, and "
        "`drkit prune` removes what an interrupted backup left unreferenced",
        highlight=False,
    )
    return TERMINATED_EXIT if terminated else INTERRUPTED_EXIT


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point (``argv``: a test's in-process call, not the process's)."""
    follow_parent()  # a step of `drkit serve` stops when the daemon dies
    handle_signals()
    args = hoist_global_options(sys.argv[1:] if argv is None else argv)
    try:
        _run(args)
    finally:
        if argv is None:
            _skip_the_last_collection()


def _skip_the_last_collection() -> None:
    """The interpreter's cyclic collection at exit walks every object the command made
    (pydantic's schemas, the imported modules): a fifth of a listing's CPU, about 0.06 s,
    for memory the OS takes back anyway. By now the command's close callbacks have run
    (catalog, backends) and stdout/stderr are flushed at exit as always; frozen objects
    are only left out of collections, not of the exit's flushing and atexit handlers."""
    gc.freeze()


def _run(args: list[str]) -> None:
    debug = "--debug" in args
    fetching = command_name(args) == "wal-fetch"  # restore_command: see restore_command_status
    try:
        # standalone: Typer prints usage errors and exits with their codes
        app(args, prog_name="drkit")
    except DrkitError as exc:
        if debug:
            traceback.print_exc()
        if fetching:
            exc = _fetch_error(exc)
        if not log_error_if_json(exc.code, exc.message, exc.hint):  # a JSON log stays JSON
            err.print(f"[red]error:[/] {exc.message}", highlight=False)
            if exc.hint:
                err.print(f"[dim]hint:[/] {exc.hint}", highlight=False)
        sys.exit(exc.exit_code)
    except SystemExit as exc:
        code = _stopped_exit(args) if _stopped_by else exc.code
        sys.exit(_fetch_status(code) if fetching else code)
    except KeyboardInterrupt:  # Typer turns it into exit 130 itself; this is a safety net
        code = _stopped_exit(args) if _stopped_by else INTERRUPTED_EXIT
        sys.exit(_fetch_status(code) if fetching else code)
    except BrokenPipeError:
        sys.exit(0)


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
