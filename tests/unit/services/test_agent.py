"""What `drkit agent` reads before the agent runs: the ha: inventory and its failover runbook."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.errors import UsageError
from drkit.runbooks.errors import RunbookNotFound
from drkit.services import Workspace
from drkit.services.agent import agent_plan
from tests.conftest import Runner

HA = """\
version: 1
runbooks: {{dir: books}}
ha:
  cluster: unit
  etcd: {{endpoints: ["http://127.0.0.1:1"]}}
  sites:
    east: {{database: {{host: 127.0.0.2, data_dir: /srv/a}}}}
    west: {{database: {{host: 127.0.0.3, data_dir: /srv/b, priority: 50}}}}
    witness: {{}}
  witness: witness
{extra}"""


def _workspace(tmp_path: Path, text: str) -> Workspace:
    config = tmp_path / "drkit.yaml"
    config.write_text(text)
    return Workspace(config=config)


def test_without_an_ha_section_the_plan_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no ha: section") as caught:
        agent_plan(_workspace(tmp_path, "version: 1\n"), "east")
    assert caught.value.hint and "docs/ha.md" in caught.value.hint


def test_the_failover_runbook_is_found_in_the_runbook_folder(tmp_path: Path) -> None:
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "mine.yaml").write_text("name: mine\n")
    ws = _workspace(tmp_path, HA.format(extra="  failover_runbook: mine\n"))
    plan = agent_plan(ws, "east")
    assert plan.failover_runbook == tmp_path / "books" / "mine.yaml"
    assert plan.to_json() == {
        "cluster": "unit",
        "site": "east",
        "failover_runbook": str(tmp_path / "books" / "mine.yaml"),
    }
    assert agent_plan(_workspace(tmp_path, HA.format(extra="")), "east").failover_runbook is None


def test_a_failover_runbook_that_is_not_there_is_named(tmp_path: Path) -> None:
    (tmp_path / "books").mkdir()
    ws = _workspace(tmp_path, HA.format(extra="  failover_runbook: gone\n"))
    with pytest.raises(RunbookNotFound, match="no runbook 'gone'"):
        agent_plan(ws, "east")


def test_the_command_refuses_an_unknown_site_without_a_traceback(
    drkit: Runner, tmp_path: Path
) -> None:
    config = tmp_path / "drkit.yaml"
    config.write_text(HA.format(extra=""))
    done = drkit("--config", str(config), "agent", "--site", "mars")
    assert done.returncode == 2 and "no site 'mars'" in done.stderr
    assert "Traceback" not in done.stderr
    bare = tmp_path / "bare.yaml"
    bare.write_text("version: 1\n")
    refused = drkit("--config", str(bare), "agent", "--site", "east")
    assert refused.returncode == 2 and "no ha: section" in refused.stderr
