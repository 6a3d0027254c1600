"""The console script leaves the interpreter's last collection out; an in-process call does not."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

PROBE = """
import gc, sys
from drkit.cli import main
sys.argv = ["drkit", *sys.argv[1:]]
try:
    main.run()
finally:
    print("frozen", gc.get_freeze_count(), flush=True)
"""


@pytest.mark.parametrize("args", [["--version"], ["no-such-command"]], ids=["ok", "usage error"])
def test_the_console_script_freezes_what_it_made_before_it_exits(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == (0 if args == ["--version"] else 2), done.stderr
    frozen = int(done.stdout.rsplit("frozen", 1)[1])
    assert frozen > 1000  # every module and object made so far, left out of collections
    if args == ["--version"]:
        assert done.stdout.startswith("drkit ")  # the command's own output is all there


def test_an_in_process_call_leaves_the_caller_collecting() -> None:
    from drkit.cli.main import run

    before = gc.get_freeze_count()
    with pytest.raises(SystemExit):
        run(["--version"])
    assert gc.get_freeze_count() == before
