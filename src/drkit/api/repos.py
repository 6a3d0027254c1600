"""Reading repositories for a request: a workspace of its own, and a deadline.

Each request gets a child workspace, so the repository connections opened
for it are closed after it. The work runs on a small pool of its own and the
request waits at most ``repository_timeout`` seconds (create_app's): a
repository that answers slowly (a storage server that hangs, a saturated
link) is a 504 problem document naming the deadline, never a request that
hangs the client. The work itself goes on in the pool until the storage
gives up (its own timeouts), and its connections are closed then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import TypeVar

from fastapi import Request

from drkit.errors import DrkitError
from drkit.services.workspace import Workspace

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 30.0
POOL_SIZE = 8


class RepositorySlow(DrkitError):
    code = "repository-timeout"
    exit_code = 1


@contextmanager
def request_workspace(ws: Workspace) -> Iterator[Workspace]:
    one = ws.child()
    try:
        yield one
    finally:
        one.close()


def new_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="drkit-api-repo")


def within_deadline(request: Request, what: str, work: Callable[[Workspace], T]) -> T:
    """``work`` on a child workspace, or :class:`RepositorySlow` once the deadline passes."""
    pool: ThreadPoolExecutor = request.app.state.repository_pool
    timeout: float = request.app.state.repository_timeout
    ws: Workspace = request.app.state.workspace

    def run() -> T:
        with request_workspace(ws) as one:
            return work(one)

    future = pool.submit(run)
    try:
        return future.result(timeout)
    except FutureTimeout:
        future.cancel()  # still waiting for a thread: it never starts
        raise RepositorySlow(
            f"{what} did not answer within {timeout:g} s",
            hint="the repository's storage is slow or not answering: try again, check it "
            "with `drkit --repo NAME check`, or look at the storage server and the link to it",
        ) from None
