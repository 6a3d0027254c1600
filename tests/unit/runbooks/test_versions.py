"""Runbook versions in the catalog, the runbook directory, and drills from drkit.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.catalog import Catalog
from drkit.runbooks import versions
from drkit.runbooks.drills import drill_jobs
from drkit.runbooks.errors import RunbookInvalid, RunbookNotFound
from drkit.runbooks.loader import parse_runbook
from drkit.runbooks.store import RunbookStore, runbook_dir
from drkit.settings.model import Settings

ONE = "name: app\nsteps: [{id: a, action: shell, with: {command: 'echo 1'}}]\n"
TWO = "name: app\nsteps: [{id: a, action: shell, with: {command: 'echo 2'}}]\n"


def test_a_version_is_recorded_once_per_change_and_again_when_reverted(catalog: Catalog) -> None:
    first = versions.record(catalog, parse_runbook(ONE, Path("app.yaml")), "alice")
    again = versions.record(catalog, parse_runbook("# same\n" + ONE, Path("app.yaml")), "bob")
    second = versions.record(catalog, parse_runbook(TWO, Path("app.yaml")), "bob")
    reverted = versions.record(catalog, parse_runbook(ONE, Path("app.yaml")), "carol")
    assert again == first and first.author == "alice"
    log = versions.history(catalog, "app")
    assert [(v.version, v.author) for v in log] == [
        (first.version, "carol"),
        (second.version, "bob"),
        (first.version, "alice"),
    ]
    assert reverted.version == first.version


def test_versions_are_found_by_prefix_and_diffed(catalog: Catalog) -> None:
    first = versions.record(catalog, parse_runbook(ONE, Path("app.yaml")))
    second = versions.record(catalog, parse_runbook(TWO, Path("app.yaml")))
    assert versions.get(catalog, "app", first.version[:6]).content == ONE
    assert versions.load_version(catalog, "app", second.version).runbook.version == second.version
    text = versions.diff(first, second)
    assert f"--- app@{first.version}" in text
    assert "-steps: [{id: a, action: shell, with: {command: 'echo 1'}}]" in text
    assert "+steps: [{id: a, action: shell, with: {command: 'echo 2'}}]" in text
    with pytest.raises(RunbookNotFound, match="no version 'ffffff'"):
        versions.get(catalog, "app", "ffffff")
    with pytest.raises(RunbookNotFound, match="several versions"):
        versions.get(catalog, "app", "")


def test_the_store_saves_atomically_and_checks_names(tmp_path: Path) -> None:
    store = RunbookStore(tmp_path / "books")
    assert store.names() == []
    saved = store.save(ONE, Path("anything.yaml"))
    assert saved.path == tmp_path / "books" / "app.yaml" and store.names() == ["app"]
    assert store.load("app").text == ONE
    (tmp_path / "books" / "other.yaml").write_text(ONE)
    with pytest.raises(RunbookInvalid, match=r"called 'app' but its file is other\.yaml"):
        store.load("other")
    with pytest.raises(RunbookNotFound, match="no runbook 'ghost'"):
        store.load("ghost")
    assert not list((tmp_path / "books").glob(".*"))  # no temporary files left


def test_the_runbook_directory_is_relative_to_drkit_yaml(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "drkit.yaml"
    home = tmp_path / "home"
    relative = Settings.model_validate({"runbooks": {"dir": "books"}})
    absolute = Settings.model_validate({"runbooks": {"dir": str(tmp_path / "abs")}})
    assert runbook_dir(relative, config, home) == tmp_path / "etc" / "books"
    assert runbook_dir(absolute, config, home) == tmp_path / "abs"
    assert runbook_dir(Settings(), None, home) == home / "runbooks"


def test_drills_become_jobs_with_their_inputs() -> None:
    settings = Settings.model_validate(
        {
            "runbooks": {
                "drills": [
                    {"runbook": "failover", "schedule": "@weekly", "inputs": {"site": "b"}},
                    {"runbook": "failover", "schedule": "0 3 1 * *"},
                ]
            }
        }
    )
    first, second = drill_jobs(settings)
    assert first.id == "drill:failover" and first.schedule == "0 0 * * 0"
    assert first.argv == ("runbook", "run", "failover", "--drill", "--input", "site=b")
    assert second.id == "drill:failover:2" and second.argv[-1] == "--drill"
