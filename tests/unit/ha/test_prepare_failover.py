"""The agent loads its failover path at start: the actions are imported, a bad runbook is said."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drkit.errors import DrkitError
from drkit.ha.failover import prepare_failover
from drkit.settings.model import Settings


def _settings() -> Settings:
    db = {"host": "127.0.0.1", "data_dir": "/nonexistent"}
    return Settings.model_validate(
        {
            "ha": {
                "cluster": "t",
                "etcd": {"endpoints": ["http://127.0.0.1:1"]},
                "sites": {"east": {"database": db}, "west": {"database": db}, "witness": {}},
                "witness": "witness",
            }
        }
    )


def test_after_preparing_a_failover_needs_no_import() -> None:
    """In a fresh interpreter: what the failover imports is already loaded once prepared."""
    code = (
        "import sys\n"
        "from tests.unit.ha.test_prepare_failover import _settings\n"
        "from drkit.ha.failover import prepare_failover\n"
        "prepare_failover(_settings(), 'west')\n"
        "before = set(sys.modules)\n"
        "from drkit.ha.failover import builtin_runbook\n"
        "from drkit.runbooks.actions.registry import get_action\n"
        "import drkit.runbooks.service\n"
        "s = _settings()\n"
        "for step in builtin_runbook(s.ha, 'east', 'west', notify=False).steps:\n"
        "    get_action(step.action)\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).parents[3],
    )  # fmt: skip
    assert done.stdout.strip() == "[]", done.stdout


def test_a_runbook_that_does_not_load_is_an_error_at_start(tmp_path: Path) -> None:
    broken = tmp_path / "failover.yaml"
    broken.write_text("name: failover\nsteps:\n  - id: a\n    action: no-such-action\n")
    with pytest.raises(DrkitError, match="no-such-action"):
        prepare_failover(_settings(), "west", broken)


def test_a_witness_prepares_nothing_to_promote() -> None:
    prepare_failover(_settings(), "witness")  # no database: no runbook to build, no error
