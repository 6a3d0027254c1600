"""The values expressions read: ``inputs.*``, ``steps.ID.outputs.*``, ``steps.ID.status``...

Parallel members write their outputs at the same time, so writes take a
lock and readers work on a copy.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping


class Variables:
    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        self._values: dict[str, str] = dict(initial or {})
        self._lock = threading.Lock()

    @classmethod
    def for_run(cls, inputs: Mapping[str, str], run_id: int | None) -> Variables:
        values = {f"inputs.{k}": v for k, v in inputs.items()}
        if run_id is not None:
            values["run.id"] = str(run_id)
        return cls(values)

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._values)

    def record(self, step: str, status: str, outputs: Mapping[str, str]) -> None:
        """A step's status and outputs, readable by later steps."""
        with self._lock:
            self._values[f"steps.{step}.status"] = status
            for key, value in outputs.items():
                self._values[f"steps.{step}.outputs.{key}"] = value
