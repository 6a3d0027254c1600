"""`drkit key add|list|remove|passwd`: passphrases are key slots over one master key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from drkit.cli.context import State, prompt_password, read_password_file
from drkit.cli.output import out, print_json
from drkit.errors import UsageError
from drkit.repository.keys import add_key_slot, list_key_slots
from drkit.storage.base import FileKind

app = typer.Typer(no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="key", help="manage the passphrases (key slots) of a repository")


def _new_password(new_password_file: Path | None) -> str:
    if new_password_file:
        return read_password_file(new_password_file)
    return prompt_password(confirm=True)


@app.command("list")
def list_keys(
    ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List key slots; * marks the one this passphrase opened."""
    state: State = ctx.obj
    repo = state.open_repo(load_index=False)
    slots = list_key_slots(repo.backend)
    if json_output:
        print_json(
            [
                {
                    "id": s.id,
                    "current": s.id == repo.key_slot,
                    "created": s.created,
                    "hostname": s.hostname,
                    "username": s.username,
                    "damaged": s.damaged or None,
                }
                for s in slots
            ]
        )
        return
    for s in slots:
        mark = "*" if s.id == repo.key_slot else " "
        if s.damaged:
            out.print(f"! {s.id[:12]}  damaged: {s.damaged}", highlight=False)
            continue
        out.print(f"{mark} {s.id[:12]}  {s.created:%Y-%m-%d %H:%M:%S}  {s.username}@{s.hostname}")


@app.command()
def add(
    ctx: typer.Context,
    new_password_file: Annotated[
        Path | None, typer.Option(help="read the new passphrase from FILE")
    ] = None,
) -> None:
    """Add a passphrase (a new key slot)."""
    state: State = ctx.obj
    repo = state.open_repo(load_index=False)
    slot = add_key_slot(repo.backend, repo.master, _new_password(new_password_file))
    out.print(f"added key slot {slot[:12]}")


@app.command()
def remove(ctx: typer.Context, slot_id: str) -> None:
    """Remove a key slot (not the one in use, and never the last)."""
    state: State = ctx.obj
    repo = state.open_repo(load_index=False)
    matches = [s.id for s in list_key_slots(repo.backend) if s.id.startswith(slot_id)]
    if len(matches) != 1:
        raise UsageError(
            f"{len(matches)} key slots match {slot_id!r}", hint="`drkit key list` shows the ids"
        )
    if matches[0] == repo.key_slot:
        raise UsageError(
            "refusing to remove the key slot in use",
            hint="open the repository with another passphrase to remove this one",
        )
    repo.backend.remove(FileKind.KEY, matches[0])
    out.print(f"removed key slot {matches[0][:12]}")


@app.command()
def passwd(
    ctx: typer.Context,
    new_password_file: Annotated[
        Path | None, typer.Option(help="read the new passphrase from FILE")
    ] = None,
) -> None:
    """Change the passphrase in use: add the new slot, then remove the old one."""
    state: State = ctx.obj
    repo = state.open_repo(load_index=False)
    slot = add_key_slot(repo.backend, repo.master, _new_password(new_password_file))
    repo.backend.remove(FileKind.KEY, repo.key_slot)
    out.print(f"passphrase changed (key slot {slot[:12]})")
