"""``action: shell``: run a command; its exit code decides, its output is kept.

```yaml
- id: lag
  action: shell
  with:
    command: "psql -Atc 'select 1' && echo lag=0 >> $DRKIT_OUTPUT"
    expect_exit: [0]
```

Outputs: ``stdout`` (stripped), ``exit_code``, and every ``key=value`` line
the command appends to the file named by ``$DRKIT_OUTPUT`` (GitHub Actions'
``$GITHUB_OUTPUT`` convention), so a script can hand values to later steps.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import Field

from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.process import Finished, run_process
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed

_TAIL = 2000


class ShellArgs(ActionArgs):
    command: str | list[str] = Field(
        description="A shell command line, or an argument list run without a shell."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    cwd: Path | None = Field(default=None, description="Working directory.")
    expect_exit: list[int] = Field(
        default_factory=lambda: [0], description="Exit codes that count as success."
    )


@register
class ShellAction(Action[ShellArgs]):
    type = "shell"

    def run(self, args: ShellArgs, ctx: ActionContext) -> ActionResult:
        fd, name = tempfile.mkstemp(prefix="drkit-output-")
        os.close(fd)
        try:
            env = {**args.env, "DRKIT_OUTPUT": name}
            done = run_process(args.command, ctx, env=env, cwd=args.cwd)
            declared = parse_output_file(Path(name).read_text(errors="replace"))
        finally:
            os.unlink(name)
        if done.returncode not in args.expect_exit:
            raise ActionFailed(_failure(args, done), hint=_tail(done.stderr) or None)
        outputs = {"stdout": done.stdout.strip(), "exit_code": str(done.returncode), **declared}
        return ActionResult(output=_journal_text(done), outputs=outputs)

    def describe(self, args: ShellArgs) -> str:
        command = args.command if isinstance(args.command, str) else " ".join(args.command)
        return f"run `{command}`" + (f" in {args.cwd}" if args.cwd else "")


def parse_output_file(text: str) -> dict[str, str]:
    """``key=value`` lines into a mapping; blank lines and lines without ``=`` are ignored."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value
    return values


def _failure(args: ShellArgs, done: Finished) -> str:
    expected = ", ".join(str(c) for c in args.expect_exit)
    return f"the command exited with {done.returncode} (expected {expected})"


def _journal_text(done: Finished) -> str:
    return done.stdout + (f"\n[stderr]\n{done.stderr}" if done.stderr.strip() else "")


def _tail(text: str) -> str:
    return text.strip()[-_TAIL:]
