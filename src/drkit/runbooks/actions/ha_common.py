"""Helpers the HA actions share: deadlines that honour cancellation, secrets, log tails.

Every HA action waits for something (a promotion, a DNS answer, a health URL).
:func:`poll` is the one waiting loop: it stops at its own deadline or as soon
as the runner cancels the step, so an action never outlives its timeout.
Secrets (a TSIG key, a database password) come from an environment variable
or a file, never from the runbook itself, so runbooks can be versioned and
shown without leaking them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import Field

from drkit.runbooks.actions.base import ActionContext
from drkit.runbooks.errors import ActionFailed
from drkit.secrets import read_secret as _read_secret

T = TypeVar("T")

Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=86_400)]


class Cancelled(ActionFailed):
    """The runner cancelled the step (timeout or `drkit runbook cancel`) while we waited."""

    code = "action-cancelled"


def poll(
    ctx: ActionContext,
    probe: Callable[[], T | None],
    *,
    timeout_s: float,
    interval_s: float = 0.2,
) -> T | None:
    """Call ``probe`` until it returns something other than None, or the time is up.

    Returns the first non-None value, or None when ``timeout_s`` passed.
    Raises :class:`Cancelled` when the runner cancels the step meanwhile.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if ctx.cancelled():
            raise Cancelled("the step was cancelled while waiting", hint="")
        value = probe()
        if value is not None:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(interval_s, remaining))


def sleep(ctx: ActionContext, seconds: float) -> None:
    """Sleep ``seconds`` in short slices; raise :class:`Cancelled` if the step is cancelled."""
    deadline = time.monotonic() + seconds
    while True:
        if ctx.cancelled():
            raise Cancelled("the step was cancelled while waiting", hint="")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(0.2, remaining))


def read_secret(*, env: str | None, file: Path | None, what: str) -> str | None:
    """The secret from environment variable ``env`` or the first line of ``file``.

    None when neither is given; ActionFailed (naming ``what``) when the one
    given is missing or empty.
    """
    return _read_secret(f"the {what}", env=env, file=file, error=ActionFailed)


def tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a log file, for error messages; '' if unreadable."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def flag(value: bool) -> str:
    """Booleans as outputs: ``true``/``false``, the way ``when:`` expressions compare them."""
    return "true" if value else "false"
