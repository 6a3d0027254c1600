"""drkit's own operations as steps: ``drkit.backup``, ``drkit.restore``, ``drkit.restore_test``,
``drkit.check``, and ``drkit`` (any command).

Each runs the drkit CLI as a child process with ``--json``: isolated from
the runner (a crash or a leak there cannot take the runbook down), killed
with its process group on timeout or cancel, and exactly what an operator
would type. The child journals its own run (``DRKIT_RUN_ID`` is removed
from its environment). Outputs: the top-level scalar values of its JSON
answer (e.g. ``snapshot_id``), and ``json`` with the whole answer.
"""

from __future__ import annotations

import json
import os
from abc import abstractmethod
from pathlib import Path
from typing import TypeVar

from pydantic import Field

from drkit.child import drkit_command, reported
from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.process import Finished, run_process
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed

_KEPT = 4096


class CommonArgs(ActionArgs):
    repo: str | None = Field(default=None, description="Repository (name in drkit.yaml or URL).")
    config: Path | None = Field(default=None, description="drkit.yaml to use (default: same).")


class CommandArgs(CommonArgs):
    args: list[str] = Field(min_length=1, description="drkit arguments, e.g. [snapshots].")


class BackupArgs(CommonArgs):
    policy: str | None = Field(default=None, description="Back up this policy's sources.")
    paths: list[str] = Field(default_factory=list, description="Or these paths.")
    tags: list[str] = Field(default_factory=list, description="Tags of the snapshot.")


class RestoreArgs(CommonArgs):
    snapshot: str = Field(default="latest", description="Snapshot id prefix or latest.")
    target: str = Field(min_length=1, description="Directory to restore into.")
    include: list[str] = Field(default_factory=list, description="Only these paths.")
    overwrite: bool = Field(default=False, description="Restore into a non-empty directory.")
    policy: str | None = Field(default=None, description="`latest` of this policy's snapshots.")
    tags: list[str] = Field(default_factory=list, description="`latest` among these tags.")
    paths: list[str] = Field(
        default_factory=list, description="`latest` among snapshots of exactly these paths."
    )
    host: str | None = Field(default=None, description="`latest` among this host's snapshots.")


class RestoreTestArgs(CommonArgs):
    snapshot: str = Field(default="latest", description="Snapshot id prefix or latest.")
    policy: str | None = Field(default=None, description="The policy's snapshots and settings.")
    validate_: list[str] = Field(
        default_factory=list, alias="validate", description="Commands run on the restored data."
    )


class CheckArgs(CommonArgs):
    read_data: bool = Field(default=False, description="Read and verify all data too.")


C = TypeVar("C", bound=CommonArgs)


class DrkitCommand(Action[C]):
    """Base of the drkit operations: subclasses turn their arguments into drkit's argv."""

    @abstractmethod
    def argv(self, args: C) -> list[str]:
        """The drkit command line (without global options and --json)."""

    def run(self, args: C, ctx: ActionContext) -> ActionResult:
        command = drkit_command(*_globals(args), *self.argv(args), "--json")
        env = {k: v for k, v in os.environ.items() if k != "DRKIT_RUN_ID"}
        ctx.log("$ drkit " + " ".join(command[4:]))
        done = run_process(command, ctx, env=env, replace_env=True)
        if done.returncode != 0:
            raise ActionFailed(
                f"drkit {' '.join(self.argv(args))} failed (exit {done.returncode}): "
                f"{_error_line(done)}",
                hint=_hint_line(done) or None,
            )
        return ActionResult(output=done.stdout[-_KEPT:], outputs=_outputs(done.stdout))

    def describe(self, args: C) -> str:
        return "drkit " + " ".join([*_globals(args), *self.argv(args)])


@register
class Command(DrkitCommand[CommandArgs]):
    type = "drkit"

    def argv(self, args: CommandArgs) -> list[str]:
        return list(args.args)


@register
class Backup(DrkitCommand[BackupArgs]):
    type = "drkit.backup"

    def argv(self, args: BackupArgs) -> list[str]:
        if not args.policy and not args.paths:
            raise ActionFailed("drkit.backup needs a policy or paths")
        argv = ["backup", *(["--policy", args.policy] if args.policy else []), *args.paths]
        return argv + [f"--tag={tag}" for tag in args.tags]


@register
class Restore(DrkitCommand[RestoreArgs]):
    type = "drkit.restore"

    def argv(self, args: RestoreArgs) -> list[str]:
        argv = ["restore", args.snapshot, "--target", args.target]
        argv += [f"--include={path}" for path in args.include]
        argv += ["--policy", args.policy] if args.policy else []
        argv += [f"--tag={tag}" for tag in args.tags] + [f"--path={p}" for p in args.paths]
        argv += ["--host", args.host] if args.host else []
        return argv + (["--overwrite"] if args.overwrite else [])


@register
class RestoreTest(DrkitCommand[RestoreTestArgs]):
    type = "drkit.restore_test"

    def argv(self, args: RestoreTestArgs) -> list[str]:
        argv = ["verify", "restore-test", "--snapshot", args.snapshot]
        argv += ["--policy", args.policy] if args.policy else []
        return argv + [f"--validate={command}" for command in args.validate_]


@register
class Check(DrkitCommand[CheckArgs]):
    type = "drkit.check"

    def argv(self, args: CheckArgs) -> list[str]:
        return ["check", *(["--read-data"] if args.read_data else [])]


def _globals(args: CommonArgs) -> list[str]:
    found = ["--repo", args.repo] if args.repo else []
    return found + (["--config", str(args.config)] if args.config else [])


def _outputs(stdout: str) -> dict[str, str]:
    try:
        document = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        return {"stdout": stdout.strip()[-_KEPT:]}
    outputs = {"json": json.dumps(document)[:_KEPT]}
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(value, str | int | float | bool) or value is None:
                outputs[str(key)] = value if isinstance(value, str) else json.dumps(value)
    return outputs


def _error_line(done: Finished) -> str:
    return reported(done.stderr) or done.stderr.strip()[-300:]


def _hint_line(done: Finished) -> str:
    return reported(done.stderr, "hint") or ""
