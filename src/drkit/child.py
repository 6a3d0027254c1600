"""drkit running drkit: the command line of a child `drkit` process, and what it reported.

The daemon's steps, the snapshot scans and the runbook actions that run drkit
operations all start `python -m drkit --quiet ...` with this interpreter and
read the child's own report: its last ``error:`` / ``hint:`` line on stderr
(see drkit.cli.main, which prints them).
"""

from __future__ import annotations

import sys


def drkit_command(*args: str, config_file: str | None = None) -> list[str]:
    """``python -m drkit --quiet [--config FILE] ARGS...`` with this interpreter."""
    config = ["--config", config_file] if config_file else []
    return [sys.executable, "-m", "drkit", "--quiet", *config, *args]


def reported(stderr: str, label: str = "error") -> str | None:
    """The text of the child's last ``LABEL:`` line on stderr, if it printed one."""
    prefix = f"{label}:"
    lines = [line for line in stderr.splitlines() if line.startswith(prefix)]
    return lines[-1].removeprefix(prefix).strip() if lines else None
