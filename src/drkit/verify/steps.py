"""Timed steps of a restore test, reported to hooks as they start and end.

Every step has a wall-clock start (for the journal) and a monotonic
duration (immune to clock changes: this is RTO evidence). The hooks let the
daemon write each step to its catalog the moment it happens, so a crash or
SIGTERM loses nothing; like chaostoolkit's event handlers, a failing hook is
logged and never breaks the test.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from drkit.errors import DrkitError

log = logging.getLogger("drkit.verify")

OUTPUT_TAIL = 4000  # characters of a command's output kept in its step


class StepKind(StrEnum):
    PREPARE = "prepare"  # choose the snapshot, list its files, check scratch space
    RESTORE = "restore"
    VERIFY = "verify"  # read every restored file back and hash it
    VALIDATE = "validate"  # one user validation command
    CLEANUP = "cleanup"


@dataclass(frozen=True)
class StepStart:
    name: str
    kind: StepKind
    started_at: datetime


@dataclass(frozen=True)
class StepResult:
    """One finished step: when it started, how long it took, and how it ended."""

    name: str
    kind: StepKind
    started_at: datetime
    duration_s: float
    ok: bool
    error: str = ""
    output_tail: str = ""
    detail: str = ""  # what the step did, e.g. "1234 files, 2.1 GiB"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "started_at": self.started_at.isoformat(),
            "duration_s": round(self.duration_s, 6),
            "ok": self.ok,
            "error": self.error,
            "output_tail": self.output_tail,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class StepHooks:
    """Called as steps start and end; exceptions from them are logged and ignored."""

    on_step_start: Callable[[StepStart], None] | None = None
    on_step_end: Callable[[StepResult], None] | None = None


@dataclass
class StepOutcome:
    """What the body of a step reports: a failure without raising, output, a detail line."""

    error: str = ""
    output_tail: str = ""
    detail: str = ""

    def fail(self, error: str) -> None:
        self.error = error


@dataclass
class StepJournal:
    """The steps of one run, in order, each reported to the hooks."""

    hooks: StepHooks = field(default_factory=StepHooks)
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @contextmanager
    def step(self, name: str, kind: StepKind) -> Iterator[StepOutcome]:
        """Time the body; an exception fails the step and goes on up."""
        start = StepStart(name, kind, datetime.now(UTC))
        _call(self.hooks.on_step_start, start)
        outcome, t0 = StepOutcome(), time.monotonic()
        try:
            yield outcome
        except BaseException as exc:
            outcome.fail(_describe(exc))
            raise
        finally:
            self._end(start, outcome, time.monotonic() - t0)

    def _end(self, start: StepStart, outcome: StepOutcome, duration: float) -> None:
        result = StepResult(
            start.name,
            start.kind,
            start.started_at,
            duration,
            not outcome.error,
            outcome.error,
            outcome.output_tail,
            outcome.detail,
        )
        self.steps.append(result)
        _call(self.hooks.on_step_end, result)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, DrkitError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _call(hook: Callable[[Any], None] | None, arg: StepStart | StepResult) -> None:
    if hook is None:
        return
    try:
        hook(arg)
    except Exception as exc:
        log.warning(
            "a step hook failed (%s: %s); the restore test goes on", type(exc).__name__, exc
        )
