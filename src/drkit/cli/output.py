"""Printing: tables and text to stdout, progress and warnings to stderr, JSON on request.

:class:`Output` is the state of one command's printing (JSON, text or quiet).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from rich.console import Console

if TYPE_CHECKING:
    from drkit.services.progress import Progress

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, indent=None) + "\n")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot encode {type(value).__name__}")


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} TiB"


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False)


class WarningProgress:
    """The CLI's :class:`drkit.services.progress.Progress` for short operations: warnings only."""

    def phase(self, name: str) -> None:
        pass

    def advance(self, done: int, total: int | None = None) -> None:
        pass

    def warn(self, message: str) -> None:
        warn(message)


class HasJson(Protocol):
    """A typed result of the service layer: its ``to_json()`` is the one JSON shape."""

    def to_json(self) -> Any: ...


R = TypeVar("R", bound=HasJson)


@dataclass(frozen=True)
class Output:
    """How this command shows its result: JSON (``--json``), text, or less text (``--quiet``).

    The one object on the CLI state that replaces the ``json_output``/``quiet``
    flags once threaded through every helper: a command asks it to
    :meth:`render` the operation's result, and for the :meth:`progress` to
    report to (a bar on a terminal, warnings only otherwise).
    """

    json: bool = False
    quiet: bool = False

    def with_json(self, json_output: bool) -> Output:
        """This output, switched to JSON when the command's ``--json`` was given."""
        return replace(self, json=self.json or json_output)

    @property
    def text(self) -> bool:
        """Whether the full text is shown (neither JSON nor --quiet)."""
        return not self.json and not self.quiet

    def render(self, result: R, human: Callable[[R], None]) -> None:
        """``result.to_json()`` on stdout with --json, else ``human(result)``."""
        if self.json:
            print_json(result.to_json())
        else:
            human(result)

    def progress(self) -> AbstractContextManager[Progress]:
        """The Progress an operation reports to: a bar on a terminal unless JSON or --quiet."""
        from drkit.cli.progress import progress_for

        return progress_for(self)
