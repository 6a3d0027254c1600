"""A workspace per request, so repository connections opened for it are closed after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from drkit.services.workspace import Workspace


@contextmanager
def request_workspace(ws: Workspace) -> Iterator[Workspace]:
    one = ws.child()
    try:
        yield one
    finally:
        one.close()
