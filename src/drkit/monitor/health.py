"""What /healthz answers: alive or stopping, and lines that say more (the control-plane role)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Health:
    ok: bool
    lines: tuple[str, ...] = ()

    @property
    def status(self) -> int:
        return 200 if self.ok else 503

    @property
    def body(self) -> str:
        return "".join(f"{line}\n" for line in ("ok" if self.ok else "stopping", *self.lines))


HealthCheck = Callable[[], Health]


def always_ok() -> Health:
    return Health(True)
