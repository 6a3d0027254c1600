"""Collected files through the CLI: versions only on change, per-file history, diffs that
never show a secret, and point-in-time restore with preview, confirmation and safety copy."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from drkit.catalog.runs import RunStatus, StepStatus, get_run, list_runs
from tests.integration.confighistory.conftest import Drkit

SECRET_1, SECRET_2 = "Zq-first-db-secret-1", "Zq-second-db-secret-2"


def _setup(dk: Drkit, etc: Path, *, extra_paths: str = "") -> None:
    etc.mkdir(exist_ok=True)
    (etc / "app.yaml").write_text(f"db:\n  host: db1\n  password: {SECRET_1}\nworkers: 4\n")
    (etc / "web.conf").write_text("# generated 2024-05-01\nlisten 80;\n")
    dk.write_config(
        f"""
        version: 1
        config_history:
          sources:
            - name: app
              paths: [{etc}/*.conf, {etc}/app.yaml{extra_paths}]
              ignore_lines: ['^# generated ']
        """
    )


def _stored(doc: dict) -> dict[str, str]:
    return {f["name"]: f["status"] for s in doc["sources"] for f in s["files"]}


def test_versions_only_on_change_and_per_file(dk: Drkit, tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    _setup(dk, etc)
    app, web = str(etc / "app.yaml"), str(etc / "web.conf")
    assert _stored(dk.json("config", "collect")) == {app: "new", web: "new"}
    assert _stored(dk.json("config", "collect")) == {app: "unchanged", web: "unchanged"}

    (etc / "web.conf").write_text("# generated 2024-06-30\nlisten 80;\n")  # ignored line only
    assert _stored(dk.json("config", "collect"))[web] == "unchanged"
    (etc / "app.yaml").write_text(f"db:\n  host: db2\n  password: {SECRET_1}\nworkers: 4\n")
    assert _stored(dk.json("config", "collect")) == {app: "changed", web: "unchanged"}

    assert [v["message"] for v in dk.json("config", "log", app)] == [
        "collected by source app",
        "collected by source app",
    ]
    assert len(dk.json("config", "log", web)) == 1
    assert len(dk.json("config", "log", f"{etc}/*")) == 3
    assert {v["name"] for v in dk.json("config", "log")} == {"drkit", app, web}


def test_a_failing_path_is_named_and_the_others_are_still_collected(
    dk: Drkit, tmp_path: Path
) -> None:
    etc = tmp_path / "etc"
    _setup(dk, etc, extra_paths=f", {tmp_path}/gone/missing.ini")
    done = dk("config", "collect")
    assert done.returncode == 52, done.stderr
    assert f"local:{tmp_path}/gone/missing.ini: does not exist" in done.stderr
    assert len(dk.json("config", "log", str(etc / "app.yaml"))) == 1
    catalog = dk.open_catalog()
    try:
        [run] = list_runs(catalog, kind="config-collect")
        assert run.status is RunStatus.FAILED and "missing.ini" in (run.error or "")
        steps = {s.name: s.status for s in get_run(catalog, run.id).steps}
        assert steps == {
            "drkit configuration": StepStatus.SUCCEEDED,
            "collect app": StepStatus.FAILED,
        }
    finally:
        catalog.close()


def test_under_the_daemon_steps_go_into_its_run(dk: Drkit, tmp_path: Path) -> None:
    from drkit.catalog.runs import RunJournal

    _setup(dk, tmp_path / "etc")
    dk("config", "log").check()  # creates the catalog
    catalog = dk.open_catalog()
    try:
        journal = RunJournal.start(catalog, kind="config-collect", trigger="schedule")
        dk("config", "collect", "--json", env={"DRKIT_RUN_ID": str(journal.run_id)}).check()
        run = get_run(catalog, journal.run_id)
        assert run.status is RunStatus.RUNNING  # the daemon finishes its runs itself
        assert [s.name for s in run.steps] == ["drkit configuration", "collect app"]
        assert len(list_runs(catalog, kind="config-collect")) == 1
    finally:
        catalog.close()


def _two_versions(dk: Drkit, tmp_path: Path) -> tuple[Path, str, int, int]:
    etc = tmp_path / "etc"
    _setup(dk, etc)
    dk("config", "collect").check()
    (etc / "app.yaml").write_text(f"db:\n  host: db2\n  password: {SECRET_2}\nworkers: 8\n")
    dk("config", "collect").check()
    app = str(etc / "app.yaml")
    new, old = (v["id"] for v in dk.json("config", "log", app))
    return etc, app, old, new


def test_diffs_show_changes_but_never_a_secret(dk: Drkit, tmp_path: Path) -> None:
    _etc, _app, old, new = _two_versions(dk, tmp_path)
    page = tmp_path / "diff.html"
    outputs = [
        dk("config", "diff", str(old), str(new)).check(),
        dk("config", "diff", str(old), str(new), "--side-by-side").check(),
        dk("config", "diff", str(old), str(new), "--by-key", "--html", str(page)).check(),
        dk("config", "diff", str(old), str(new), "--json").check(),
        dk("config", "show", str(old)).check(),
        dk("config", "show", str(new), "--json").check(),
        dk("config", "log", "--json").check(),
    ]
    text = "\n".join(r.stdout + r.stderr for r in outputs) + page.read_text()
    assert SECRET_1 not in text and SECRET_2 not in text
    unified = outputs[0].stdout
    assert "-  host: db1" in unified and "+  host: db2" in unified
    assert "-  password: <secret>" in unified and "+  password: <secret changed>" in unified
    assert "\x1b[" not in unified  # no colours when piped
    assert "db.password" in outputs[2].stdout and "&lt;secret changed&gt;" in page.read_text()
    assert page.read_text().startswith("<!DOCTYPE html>")
    coloured = dk("config", "diff", str(old), str(new), env={"FORCE_COLOR": "1"}).check()
    assert "\x1b[31m-  host: db1" in coloured.stdout and "\x1b[32m+  host: db2" in coloured.stdout


def test_diff_by_time_and_phrase(dk: Drkit, tmp_path: Path) -> None:
    _etc, app, old, new = _two_versions(dk, tmp_path)
    versions = {v["id"]: v for v in dk.json("config", "log", app)}
    at_old = versions[old]["time"]
    by_time = dk.json("config", "diff", at_old, "now", "--path", app)
    assert by_time["old"].startswith(f"{app} #{old} ") and by_time["new"].startswith(
        f"{app} #{new} "
    )
    assert by_time["changed"] and by_time["added"] == 3 and by_time["removed"] == 3
    missing = dk("config", "diff", "yesterday", "now", "--path", app)
    assert missing.returncode == 51 and "has no version at or before" in missing.stderr
    bad = dk("config", "diff", "the other day", "now", "--path", app)
    assert bad.returncode == 51 and "2 hours ago" in bad.stderr


def test_point_in_time_restore_of_a_file(dk: Drkit, tmp_path: Path) -> None:
    etc, app, old, _new = _two_versions(dk, tmp_path)
    os.chmod(app, 0o600)
    at_old = {v["id"]: v for v in dk.json("config", "log", app)}[old]["time"]
    edited = f"db:\n  host: db3\n  password: {SECRET_2}\nworkers: 16\n"
    Path(app).write_text(edited)  # changed by hand since the last collection

    preview = dk("config", "restore", "--at", at_old, app)
    assert preview.returncode == 54 and "--yes" in preview.stderr
    assert "-  host: db3" in preview.stdout and "+  host: db1" in preview.stdout
    assert SECRET_1 not in preview.stdout + preview.stderr
    dry = dk("config", "restore", "--at", at_old, app, "--dry-run").check()
    assert "+  host: db1" in dry.stdout
    assert Path(app).read_text() == edited  # neither changed anything

    inode = os.stat(app).st_ino
    done = dk("config", "restore", "--at", at_old, app, "--yes", "--author", "ops").check()
    restored = Path(app).read_text()
    assert restored == f"db:\n  host: db1\n  password: {SECRET_1}\nworkers: 4\n"
    assert os.stat(app).st_ino != inode  # written beside and renamed over: atomic
    # the chmod 600 made after the last collection stays: only content comes back
    assert stat.S_IMODE(os.stat(app).st_mode) == 0o600
    assert sorted(p.name for p in etc.iterdir()) == ["app.yaml", "web.conf"]  # no temp left

    log = dk.json("config", "log", app)
    assert [v["message"].split(" (")[0] for v in log[:2]] == [
        f"restored version #{old}",
        "safety copy before restoring to " + log[1]["message"].rsplit(" to ", 1)[1],
    ]
    assert {log[0]["author"], log[1]["author"]} == {"ops"}
    safety = log[1]["id"]
    assert f"the state before it is version #{safety}" in done.stdout
    assert "host: db3" in dk("config", "show", str(safety)).check().stdout  # the edit is kept

    Path(app).write_text(edited)
    dk("config", "restore", "--at", at_old, app, "--yes", "--restore-mode").check()
    assert stat.S_IMODE(os.stat(app).st_mode) == 0o644  # asked for: the mode the version had


def test_restore_brings_back_a_deleted_file(dk: Drkit, tmp_path: Path) -> None:
    _etc, app, _old, _new = _two_versions(dk, tmp_path)
    os.unlink(app)
    dk("config", "restore", "--at", "now", app, "--yes").check()
    assert "workers: 8" in Path(app).read_text()


@pytest.mark.parametrize("selector", ["/nowhere/x.conf", "web9:/etc/x"])
def test_restore_of_something_without_history_is_an_error(
    dk: Drkit, tmp_path: Path, selector: str
) -> None:
    _setup(dk, tmp_path / "etc")
    done = dk("config", "restore", "--at", "now", selector, "--yes")
    assert done.returncode == 51 and "no configuration history matches" in done.stderr


def test_retention_keeps_the_newest_versions_of_each_file(dk: Drkit, tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    dk.write_config(
        f"""
        version: 1
        config_history:
          retention: {{keep_versions: 2}}
          sources: [{{name: app, paths: ['{etc}/*.conf']}}]
        """
    )
    for i in range(4):
        (etc / "a.conf").write_text(f"a = {i}\n")
        (etc / "b.conf").write_text("b = 1\n")
        doc = dk.json("config", "collect")
    assert doc["removed"] == 1  # the fourth collection removed a.conf's second-oldest
    a, b = (dk.json("config", "log", str(etc / name)) for name in ("a.conf", "b.conf"))
    assert len(a) == 2 and len(b) == 1  # b.conf never changed: its one version stays
    assert "a = 3" in dk("config", "show", str(a[0]["id"])).check().stdout
    assert "a = 2" in dk("config", "show", str(a[1]["id"])).check().stdout
