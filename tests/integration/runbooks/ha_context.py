"""A minimal ActionContext for calling HA actions directly, outside the runner."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from drkit.runbooks.actions.base import ActionResult
from drkit.runbooks.actions.registry import get_action
from drkit.settings.model import Settings


@dataclass
class FakeContext:
    """What the runner would hand an action: logs are kept, cancel is an event."""

    dry_run: bool = False
    run_id: int | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    settings: Settings = field(default_factory=lambda: Settings.model_validate({"version": 1}))
    lines: list[str] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)

    def log(self, line: str) -> None:
        self.lines.append(line)

    def cancelled(self) -> bool:
        return self.cancel.is_set()


def args_of(action_type: str, **values: Any) -> BaseModel:
    """Validate ``values`` with the action's Args model, as the runner does."""
    return get_action(action_type).Args.model_validate(values)


def run_action(action_type: str, ctx: FakeContext | None = None, **values: Any) -> ActionResult:
    """Run one action with ``values`` as its ``with:`` arguments."""
    action = get_action(action_type)()
    return action.run(args_of(action_type, **values), ctx or FakeContext())
