"""``action: tcp``: can a TCP connection be opened (or, with ``expect: closed``, not)?

Outputs: ``open`` (``true``/``false``) and ``seconds`` (time to connect).
``expect: closed`` makes "the old primary is down" a check a runbook can
branch on (``when: steps.detect.outputs.open == 'false'``).
"""

from __future__ import annotations

import socket
import time
from enum import StrEnum

from pydantic import Field

from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed


class Expect(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ANY = "any"


class TcpArgs(ActionArgs):
    host: str = Field(min_length=1, description="Host name or address.")
    port: int = Field(ge=1, le=65535, description="TCP port.")
    timeout: float = Field(default=5, gt=0, description="Seconds to wait for the connection.")
    expect: Expect = Field(default=Expect.OPEN, description="open, closed, or any (just report).")


@register
class TcpAction(Action[TcpArgs]):
    type = "tcp"

    def run(self, args: TcpArgs, ctx: ActionContext) -> ActionResult:
        timeout = min(args.timeout, ctx.timeout_s) if ctx.timeout_s else args.timeout
        started = time.monotonic()
        problem = _connect(args.host, args.port, timeout)
        seconds = time.monotonic() - started
        is_open = problem is None
        where = f"{args.host}:{args.port}"
        state = "open" if is_open else f"closed ({problem})"
        ctx.log(f"{where} is {state} ({seconds:.3f}s)")
        if args.expect is Expect.OPEN and not is_open:
            raise ActionFailed(f"cannot connect to {where}: {problem}")
        if args.expect is Expect.CLOSED and is_open:
            raise ActionFailed(f"{where} accepts connections, expected it closed")
        outputs = {"open": "true" if is_open else "false", "seconds": f"{seconds:.3f}"}
        return ActionResult(output=f"{where} {state}", outputs=outputs)

    def describe(self, args: TcpArgs) -> str:
        return f"connect to {args.host}:{args.port}, expect {args.expect.value}"


def _connect(host: str, port: int, timeout: float) -> str | None:
    """None when a connection opened, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except TimeoutError:
        return f"no answer within {timeout:g}s"
    except OSError as exc:
        return exc.strerror or str(exc)
