"""What an action sees of the run: the :class:`ActionContext` the runner hands it.

One :class:`StepContext` per attempt of a step. ``cancelled()`` turns true
when the run is cancelled or the attempt timed out, so actions that poll it
stop soon; ``log`` lines become the step's output in the journal. Manual
steps also use :meth:`StepContext.wait_for_approval`, which only the runner's
context offers (see :mod:`drkit.runbooks.actions.manual`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drkit.catalog.runs import StepStatus
from drkit.catalog.types import utcnow
from drkit.runbooks import requests
from drkit.runbooks.errors import ActionFailed
from drkit.runbooks.journal import RunbookJournal
from drkit.settings.model import Settings

ApprovalPrompt = Callable[[int, str, str], None]
"""Asks an operator at a terminal: (run id, step id, prompt). The face sends the answer
itself, signed in, through the approval service (an answer is never taken on trust)."""


@dataclass
class RunControl:
    """Shared by every step of one run: the journal, cancellation and how to ask operators."""

    journal: RunbookJournal | None
    settings: Settings
    dry_run: bool = False
    poll_s: float = 0.5
    prompt: ApprovalPrompt | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    cancelled_by: str | None = None

    @property
    def run_id(self) -> int | None:
        return self.journal.run_id if self.journal else None


@dataclass
class StepContext:
    """The ActionContext of one attempt of one step."""

    control: RunControl
    step_id: str
    row_id: int | None
    variables: Mapping[str, Any]
    timeout_s: float | None
    stop_event: threading.Event = field(default_factory=threading.Event)
    lines: list[str] = field(default_factory=list)
    actor: str | None = None

    @property
    def dry_run(self) -> bool:
        return self.control.dry_run

    @property
    def run_id(self) -> int | None:
        return self.control.run_id

    @property
    def settings(self) -> Settings:
        return self.control.settings

    def log(self, line: str) -> None:
        self.lines.append(line)

    def cancelled(self) -> bool:
        return self.stop_event.is_set() or self.control.cancel_event.is_set()

    def wait_for_approval(
        self, prompt: str, approvers: Sequence[str] | None, timeout_s: float | None
    ) -> str:
        """Mark the step waiting and block until an operator approves (returns who) or rejects."""
        journal = self.control.journal
        if journal is None or self.row_id is None:
            raise ActionFailed("a manual step needs a journaled run to wait for an approval")
        since = utcnow()
        journal.set_status(self.row_id, StepStatus.WAITING)
        self.log(f"waiting for approval: {prompt}")
        if self.control.prompt is not None:
            self._ask_at_terminal(journal, prompt)
        return self._poll(journal, approvers, since, timeout_s)

    def _ask_at_terminal(self, journal: RunbookJournal, prompt: str) -> None:
        assert self.control.prompt is not None
        ask, run_id, step = self.control.prompt, journal.run_id, self.step_id
        threading.Thread(
            target=ask, args=(run_id, step, prompt), daemon=True, name=f"ask-{step}"
        ).start()

    def _poll(
        self,
        journal: RunbookJournal,
        approvers: Sequence[str] | None,
        since: datetime,
        timeout_s: float | None,
    ) -> str:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self.cancelled():
            found = requests.decisions(journal.catalog, journal.run_id, self.step_id, since)
            allowed = [r for r in found if not approvers or r.actor in approvers]
            if allowed:
                return self._decided(allowed[0])
            if deadline is not None and time.monotonic() >= deadline:
                raise ActionFailed(f"no approval within {timeout_s:g}s")
            self.stop_event.wait(self.control.poll_s)
        raise ActionFailed("stopped while waiting for an approval")

    def _decided(self, found: requests.Request) -> str:
        self.actor = found.actor
        note = f" ({found.comment})" if found.comment else ""
        if found.kind is requests.RequestKind.REJECT:
            self.log(f"rejected by {found.actor}{note}")
            raise ActionFailed(f"rejected by {found.actor}{note}")
        self.log(f"approved by {found.actor}{note}")
        return found.actor
