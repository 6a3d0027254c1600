"""CLI conventions: --version's three facts, no `<bool>` after flags, bash and zsh completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from alembic.script import ScriptDirectory
from typer._click.core import Context
from typer._completion_shared import get_completion_script
from typer.core import TyperGroup
from typer.testing import CliRunner

from drkit import __version__
from drkit.about import _assignments, catalog_heads
from drkit.catalog.engine import _alembic_config
from drkit.cli.lazy import COMMANDS
from drkit.cli.main import app
from drkit.repository.repoconfig import FORMAT_VERSION

ROOT = Path(__file__).resolve().parents[3]
COMPLETION = ROOT / "packaging" / "completion"


def _drkit(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drkit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "100", **env},
    )


def test_version_names_release_repository_format_and_catalog_heads() -> None:
    heads = sorted(ScriptDirectory.from_config(_alembic_config()).get_heads())
    result = _drkit("--version")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"drkit {__version__}"
    assert lines[1] == f"repository format {FORMAT_VERSION}"
    assert lines[2].startswith(f"catalog schema {'+'.join(heads)} ")
    assert catalog_heads() == heads


def test_version_imports_neither_sqlalchemy_nor_alembic() -> None:
    code = (
        "import sys\nfrom drkit.cli.main import run\n"
        "try:\n    run(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"


def test_migration_heads_follow_merges_and_annotated_assignments() -> None:
    assert _assignments('revision: str = "0004"\ndown_revision = ("0002", "0003")\n') == {
        "revision": "0004",
        "down_revision": ("0002", "0003"),
    }


def test_the_package_version_is_the_distribution_version() -> None:
    from importlib.metadata import version

    assert version("drkit") == __version__


def _every_command_path() -> list[list[str]]:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    ctx = Context(root)
    paths: list[list[str]] = [[]]
    for name in COMMANDS:
        command = root.get_command(ctx, name)
        paths.append([name])
        if isinstance(command, TyperGroup):
            paths += [[name, sub] for sub in command.list_commands(ctx)]
    return paths


def test_no_help_shows_bool_after_a_flag_and_options_keep_their_types() -> None:
    runner = CliRunner()
    paths = _every_command_path()
    assert len(paths) > 60  # every command and subcommand
    seen_types = 0
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, path
        seen_types += "<str>" in result.output or "<path>" in result.output
    assert seen_types > 20  # options that take values still say what they take


def test_without_the_fix_typer_would_show_bool() -> None:
    from drkit.cli import help_format

    root = typer.main.get_command(app)
    ctx = Context(root)
    (quiet,) = [p for p in root.params if "--quiet" in p.opts]
    (repo,) = [p for p in root.params if "--repo" in p.opts]
    assert isinstance(quiet, typer.core.TyperOption) and isinstance(repo, typer.core.TyperOption)
    assert help_format._typed_display(quiet, ctx) == "<bool>"  # Typer's own answer
    assert quiet.display_type_rich(ctx) is None
    assert repo.display_type_rich(ctx) == "<str>"


@pytest.mark.parametrize(("shell", "file"), [("bash", "drkit.bash"), ("zsh", "_drkit")])
def test_shipped_completion_scripts_are_typers_current_ones(shell: str, file: str) -> None:
    expected = get_completion_script(prog_name="drkit", complete_var="_DRKIT_COMPLETE", shell=shell)
    assert (COMPLETION / file).read_text() == expected.rstrip("\n") + "\n", (
        f"regenerate: see docs/install.md (shell completion), {shell}"
    )


def test_bash_completion_completes_commands_and_options() -> None:
    bin_dir = Path(sys.executable).parent
    script = (
        f"source {COMPLETION / 'drkit.bash'}\n"
        "COMP_WORDS=(drkit runbook sc); COMP_CWORD=2; _drkit_completion drkit\n"
        'echo "${COMPREPLY[@]}"\n'
        "COMP_WORDS=(drkit backup --one); COMP_CWORD=2; _drkit_completion drkit\n"
        'echo "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "--norc", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["schema", "--one-file-system"]


def test_zsh_completion_protocol_answers_with_descriptions() -> None:
    result = _drkit(_DRKIT_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="drkit snap")
    assert result.returncode == 0, result.stderr
    assert '"snapshots":"List snapshots, oldest first."' in result.stdout
