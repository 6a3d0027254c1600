"""The runbook action interface: what a step's ``action:`` type must provide.

An :class:`Action` does one kind of work (run a command, check an HTTP
endpoint, promote a database). Its contract:

- ``Args`` is a frozen pydantic model (``extra="forbid"``) of the step's
  ``with:`` arguments. The runner substitutes ``${{ ... }}`` expressions in
  the raw arguments first, then validates them with ``Args``; ``run`` gets the
  validated instance.
- ``run`` either returns an :class:`ActionResult` or raises
  :class:`~drkit.runbooks.errors.ActionFailed` (message a person understands,
  ``hint`` how to fix it). Library exceptions are translated inside ``run``.
- ``run`` must honour the step's timeout: the runner runs it in a thread and
  stops waiting when the timeout passes. Actions that start processes or open
  connections use their own timeouts too, and long loops poll
  ``ctx.cancelled()`` and stop when it is true.
- ``run`` is never called in a dry run; ``describe`` is (and in guides), so it
  must not touch anything: one line saying what ``run`` would do.
- Actions are stateless: one instance may run several steps, even at once.

A subclass sets the two class attributes without annotations (``type =
"shell"``, ``Args = ShellArgs``): annotating ``Args`` with ``type[...]`` inside
the class would name the ``type`` attribute, not the builtin.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from drkit.settings.model import Settings


class ActionContext(Protocol):
    """What the runner hands an action besides its arguments (read-only)."""

    @property
    def dry_run(self) -> bool: ...

    @property
    def run_id(self) -> int | None: ...

    @property
    def variables(self) -> Mapping[str, Any]:
        """Runbook inputs (``inputs.<name>``) and earlier outputs (``steps.<id>.outputs.<key>``)."""

    @property
    def settings(self) -> Settings:
        """drkit.yaml (drkit.settings.model.Settings)."""

    @property
    def timeout_s(self) -> float | None:
        """The step's timeout in seconds (None: none); give subprocesses and sockets no more."""

    def log(self, line: str) -> None:
        """Append a line to the step's output in the journal."""

    def cancelled(self) -> bool:
        """True once the run is cancelled or the step timed out: stop soon."""


@dataclass(frozen=True)
class ActionResult:
    """What an action did: text for the journal and values later steps can use."""

    output: str = ""
    outputs: Mapping[str, str] = field(default_factory=dict)


class ActionArgs(BaseModel):
    """Base for ``Args`` models: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Action(ABC):
    """One kind of runbook step. Subclasses set ``type`` and ``Args`` and implement ``run``."""

    type: ClassVar[str]
    Args: ClassVar[builtins.type[BaseModel]]  # `type` is the class attribute above

    @abstractmethod
    def run(self, args: BaseModel, ctx: ActionContext) -> ActionResult:
        """Do the work; raise ActionFailed on failure (see the module contract)."""

    def describe(self, args: BaseModel) -> str:
        """One line for dry runs and guides; touches nothing."""
        shown = ", ".join(f"{k}={v!r}" for k, v in args.model_dump(exclude_defaults=True).items())
        return f"{self.type}({shown})"
