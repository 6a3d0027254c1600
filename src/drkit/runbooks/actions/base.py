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

An action is generic over its argument model: ``class ShellAction(Action[ShellArgs])``
gets ``Args = ShellArgs`` from that parameter, and its ``run`` and ``describe``
take a ``ShellArgs`` (no ``isinstance`` checks). It sets ``type = "shell"``
without an annotation, and declares itself with ``@register``, which puts a
:class:`drkit.plugins.Plugin` (type, ``Args``, the class as builder) into the
action registry.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

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


A = TypeVar("A", bound=BaseModel, default=BaseModel)
"""The argument model; a bare ``Action`` (code that runs any action) takes any model."""


class Action(ABC, Generic[A]):
    """One kind of runbook step. Subclasses set ``type``, name ``Args`` by the generic
    parameter and implement ``run``."""

    type: ClassVar[str]
    Args: ClassVar[builtins.type[BaseModel]]  # `type` is the class attribute above

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Args" in cls.__dict__:
            return
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is not None and issubclass(get_origin(base), Action):
                (model,) = get_args(base)[:1]
                if isinstance(model, builtins.type) and issubclass(model, BaseModel):
                    cls.Args = model
                    return

    def validate(self, raw: Mapping[str, Any]) -> A:
        """The step's ``with:`` as this action's argument model (ValidationError if bad)."""
        args: A = self.Args.model_validate(raw)  # type: ignore[assignment]  # Args is A's model
        return args

    @abstractmethod
    def run(self, args: A, ctx: ActionContext) -> ActionResult:
        """Do the work; raise ActionFailed on failure (see the module contract)."""

    def describe(self, args: A) -> str:
        """One line for dry runs and guides; touches nothing."""
        shown = ", ".join(f"{k}={v!r}" for k, v in args.model_dump(exclude_defaults=True).items())
        return f"{self.type}({shown})"
