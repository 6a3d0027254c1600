"""Watching a run as it goes (the CLI prints progress); an observer can never break a run."""

from __future__ import annotations

import logging
from typing import Protocol

from drkit.catalog.runs import StepStatus
from drkit.runbooks.journal import Phase
from drkit.runbooks.model import Step

log = logging.getLogger(__name__)


class Observer(Protocol):
    def step_started(self, step: Step, phase: Phase) -> None: ...

    def step_finished(
        self, step: Step, phase: Phase, status: StepStatus, error: str | None, seconds: float
    ) -> None: ...


class NullObserver:
    def step_started(self, step: Step, phase: Phase) -> None:
        pass

    def step_finished(
        self, step: Step, phase: Phase, status: StepStatus, error: str | None, seconds: float
    ) -> None:
        pass


class SafeObserver:
    """Wraps an observer: its exceptions are logged, never raised into the run."""

    def __init__(self, inner: Observer | None) -> None:
        self.inner = inner or NullObserver()

    def step_started(self, step: Step, phase: Phase) -> None:
        try:
            self.inner.step_started(step, phase)
        except Exception:
            log.exception("observer failed at the start of step %s", step.id)

    def step_finished(
        self, step: Step, phase: Phase, status: StepStatus, error: str | None, seconds: float
    ) -> None:
        try:
            self.inner.step_finished(step, phase, status, error, seconds)
        except Exception:
            log.exception("observer failed at the end of step %s", step.id)
