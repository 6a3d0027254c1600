"""drkit's own configuration: drkit.yaml versioned when loaded, every user change a version,
and a point-in-time restore that brings back drkit.yaml, runbooks, users and permissions."""

from __future__ import annotations

from pathlib import Path

from drkit.catalog.types import utcnow
from drkit.confighistory.drkit_state import DrkitState
from drkit.confighistory.model import Scope
from drkit.confighistory.store import VersionStore
from tests.integration.confighistory.conftest import Drkit

WEBHOOK_TOKEN = "Zq0webhook0token0value"
CONFIG_V1 = """\
version: 1
notifiers:
  ops:
    type: webhook
    url: https://hooks.example.com/drkit?token={token}
"""
CONFIG_V2 = (
    CONFIG_V1
    + """\
  chat:
    type: slack
    url_env: DRKIT_SLACK_URL
"""
)


def _drkit_versions(dk: Drkit) -> list[dict]:
    return list(dk.json("config", "log", "drkit"))


def test_drkit_yaml_is_versioned_when_loaded_and_only_when_it_changed(dk: Drkit) -> None:
    dk.config.write_text(CONFIG_V1.format(token=WEBHOOK_TOKEN))
    first = _drkit_versions(dk)
    assert [v["message"] for v in first] == ["drkit.yaml changed (seen at load)"]
    assert (dk.home / "confighistory.seen").is_file()
    assert len(_drkit_versions(dk)) == 1  # loaded again, unchanged: no version
    dk.config.write_text(CONFIG_V1.format(token=WEBHOOK_TOKEN))  # rewritten, same text
    assert len(_drkit_versions(dk)) == 1
    dk.config.write_text(CONFIG_V2.format(token=WEBHOOK_TOKEN))
    second = _drkit_versions(dk)
    assert len(second) == 2 and second[0]["author"] and second[0]["time"] > first[0]["time"]
    shown = dk("config", "diff", str(first[0]["id"]), str(second[0]["id"])).check().stdout
    assert "+  chat:" in shown and "+    url_env: DRKIT_SLACK_URL" in shown
    every = shown + dk("config", "show", str(second[0]["id"])).check().stdout
    assert WEBHOOK_TOKEN not in every and "token=<secret>" in every


def test_a_broken_history_never_stops_the_command(dk: Drkit) -> None:
    dk.config.write_text("version: 1\n")
    dk.home.mkdir(parents=True)
    (dk.home / "confighistory.key").write_text("damaged\n")  # versions cannot be sealed
    done = dk("status")
    assert "could not be versioned" in done.stderr
    assert "no policies" in done.stderr  # the command itself ran and said its own thing


def test_every_user_change_is_a_version_with_its_author(dk: Drkit) -> None:
    dk.config.write_text("version: 1\n")
    pw = "a long enough password\n"
    dk(
        "user",
        "add",
        "alice",
        "--grant",
        "admin",
        "--password-stdin",
        "--author",
        "carol",
        input=pw,
    ).check()
    dk("user", "add", "bob", "-g", "viewer", "--password-stdin", input=pw).check()
    dk("user", "grant", "bob", "operator", "failover", "--author", "carol").check()
    dk("user", "revoke", "bob", "viewer", "--author", "dave").check()
    dk("user", "passwd", "alice", "--password-stdin", input="another long password\n").check()
    dk("user", "remove", "alice", "--author", "carol").check()
    users = dk.json("user", "list")
    assert [(u["name"], u["roles"], u["permissions"]) for u in users] == [
        ("bob", ["operator"], ["failover"])
    ]
    log = _drkit_versions(dk)
    assert [(v["author"], v["message"]) for v in log[:5]] == [
        ("carol", "user alice removed"),
        (log[1]["author"], "user alice: password changed"),
        ("dave", "user bob: revoked viewer"),
        ("carol", "user bob granted operator, failover"),
        (log[4]["author"], "user bob added (granted viewer)"),
    ]
    assert log[5]["author"] == "carol" and log[5]["message"] == "user alice added (granted admin)"
    everything = dk("config", "diff", str(log[-1]["id"]), str(log[0]["id"])).check().stdout
    everything += dk("config", "show", str(log[2]["id"])).check().stdout
    assert "$argon2" not in everything and "password_hash: <secret" in everything
    assert "grants: [failover, operator]" in everything


def test_unknown_grants_and_users_are_clear_errors(dk: Drkit) -> None:
    dk.config.write_text("version: 1\n")
    bad = dk("user", "add", "x", "-g", "root", "--password-stdin", input="long password\n")
    assert bad.returncode == 50 and "neither a role nor a permission" in bad.stderr
    missing = dk("user", "grant", "nobody", "admin")
    assert missing.returncode == 50 and "there is no user 'nobody'" in missing.stderr
    short = dk("user", "add", "y", "--password-stdin", input="short\n")
    assert short.returncode == 2 and "too short" in short.stderr
    assert len(_drkit_versions(dk)) == 1  # only drkit.yaml: failed changes store nothing


def test_restore_brings_back_drkit_yaml_runbooks_users_and_permissions(
    dk: Drkit, tmp_path: Path
) -> None:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "failover.yaml").write_text("name: failover\nsteps: [promote]\n")
    v1 = CONFIG_V1.format(token=WEBHOOK_TOKEN) + f"runbooks:\n  dir: {runbooks}\n"
    dk.config.write_text(v1)
    pw = "a long enough password\n"
    dk("user", "add", "alice", "-g", "admin", "--password-stdin", input=pw).check()
    dk("user", "add", "bob", "-g", "viewer", "--password-stdin", input=pw).check()
    at = utcnow().isoformat()

    dk.config.write_text(v1.replace("hooks.example.com", "hooks2.example.com") + "# later\n")
    (runbooks / "failover.yaml").write_text("name: failover\nsteps: [promote, dns]\n")
    (runbooks / "drill.yaml").write_text("name: drill\n")
    dk("user", "grant", "bob", "admin").check()
    dk("user", "remove", "alice").check()
    dk("user", "add", "eve", "-g", "operator", "--password-stdin", input=pw).check()

    preview = dk("config", "restore", "--at", at)
    assert preview.returncode == 54
    assert "-# later" in preview.stdout and "+alice:" in preview.stdout
    assert WEBHOOK_TOKEN not in preview.stdout
    done = dk("config", "restore", "--at", at, "--yes").check()
    assert "restored drkit to version #" in done.stdout

    assert dk.config.read_text() == v1
    assert (runbooks / "failover.yaml").read_text() == "name: failover\nsteps: [promote]\n"
    assert (runbooks / "drill.yaml").exists()  # added later: left alone
    users = {u["name"]: u["roles"] for u in dk.json("user", "list")}
    assert users == {"alice": ["admin"], "bob": ["viewer"]}
    log = _drkit_versions(dk)
    assert log[0]["message"].startswith("restored version #")
    # the state before the restore was already the newest version: that is its safety copy
    assert log[1]["message"] == "user eve added (granted operator)"
    assert f"the state before it is version #{log[1]['id']}" in done.stdout
    after = dk("config", "restore", "--at", "now", "--json").check()  # already as it was
    assert '"status": "unchanged"' in after.stdout
    undo = dk("config", "restore", "--at", log[1]["time"], "--yes").check()  # undo the restore
    assert "restored drkit" in undo.stdout
    assert {u["name"] for u in dk.json("user", "list")} == {"bob", "eve"}


def test_a_drkit_yaml_this_drkit_cannot_load_is_not_restored(dk: Drkit) -> None:
    dk.config.write_text("version: 1\n")
    dk("config", "log").check()
    catalog = dk.open_catalog()
    try:
        store = VersionStore(catalog, dk.home)
        [current] = store.history([Scope.drkit()])
        state = DrkitState(str(dk.config), "version: 99\n", (), ())
        from dataclasses import replace

        store.import_version(
            replace(current, uid="f" * 32, created_at=utcnow(), content_hash=state.digest()),
            state.to_content(),
        )
    finally:
        catalog.close()
    done = dk("config", "restore", "--at", "now", "--yes")
    assert done.returncode == 54 and "does not load in this drkit" in done.stderr
    assert dk.config.read_text() == "version: 1\n"
