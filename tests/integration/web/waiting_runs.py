"""A real `drkit runbook run` waiting at a manual step, in the background, for the pages."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from drkit.catalog.runs import get_run, list_runs
from drkit.services.runbook_views import waiting_step
from tests.integration.api.conftest import Api

GATE = """\
name: {name}
steps:
  - id: go
    name: Confirm the switch
    manual: {{prompt: "Is site a drained?", approvers: [ada], timeout: 120}}
  - id: after
    action: shell
    with: {{command: "true"}}
"""


@dataclass
class Waiting:
    proc: subprocess.Popen[str]
    run_id: int

    def wait(self) -> int:
        self.proc.communicate(timeout=120)
        return self.proc.returncode


@contextmanager
def waiting_run(site: Api, name: str) -> Iterator[Waiting]:
    """Run the runbook ``name`` (a GATE) until it waits at its step ``go``."""
    (site.root / f"{name}.yaml").write_text(GATE.format(name=name))
    site.drkit("runbook", "save", str(site.root / f"{name}.yaml")).check()
    proc = subprocess.Popen(
        [sys.executable, "-m", "drkit", "runbook", "run", name],
        env=site.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield Waiting(proc, _until_waiting(site, name, proc))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=60)


def _until_waiting(site: Api, name: str, proc: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, f"the run ended: {proc.communicate()}"
        found = list_runs(site.catalog(), subject=name, limit=1)
        if found:
            view = get_run(site.catalog(), found[0].id)
            if waiting_step(site.catalog(), view) == "go":
                return view.id
        assert time.monotonic() < deadline, f"timed out waiting for {name} to wait"
        time.sleep(0.1)
