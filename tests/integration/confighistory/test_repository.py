"""Versions in backup repositories: pushed as config-history snapshots, and a lost control
plane (catalog, key, drkit.yaml all gone) rebuilt from a repository as at a time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from drkit.catalog.types import utcnow
from tests.integration.confighistory.conftest import Drkit

PW = "a long enough password\n"


def _settings(dk: Drkit, tmp_path: Path, extra: str = "") -> str:
    (tmp_path / "nas.pw").write_text("nas passphrase")
    text = (
        "version: 1\n"
        "repositories:\n"
        f"  nas: {{url: {tmp_path / 'nas'}, password_file: {tmp_path / 'nas.pw'}}}\n" + extra
    )
    dk.config.write_text(text)
    dk("--repo", "nas", "init").check()
    return text


def _snapshots(dk: Drkit, repo: str) -> list[dict]:
    return [s for s in dk.json("--repo", repo, "snapshots") if "config-history" in s["tags"]]


def test_push_then_rebuild_a_lost_control_plane_as_at_a_time(dk: Drkit, tmp_path: Path) -> None:
    text_at_t = _settings(dk, tmp_path)
    dk("user", "add", "alice", "-g", "admin", "--password-stdin", input=PW).check()
    dk("user", "add", "bob", "-g", "viewer", "-g", "failover", "--password-stdin", input=PW).check()
    [pushed] = dk.json("config", "push", "--repo", "nas")
    assert pushed["versions"] == 3 and not pushed["skipped"]
    assert dk.json("config", "push", "--repo", "nas")[0]["skipped"]  # nothing new
    at = utcnow().isoformat()

    dk("user", "remove", "alice").check()
    dk.config.write_text(text_at_t + "# changed after T\n")
    dk("config", "log").check()
    dk.json("config", "push", "--repo", "nas")
    snaps = _snapshots(dk, "nas")
    assert len(snaps) == 2 and snaps[-1]["paths"] == ["/config-history"]
    versions_before = dk.json("config", "log")

    # the control plane is lost: catalog, key, seen-cache and drkit.yaml
    shutil.rmtree(dk.home)
    dk.config.unlink()
    nas = str(tmp_path / "nas")
    done = dk(
        "config",
        "restore",
        "--from-repository",
        nas,
        "--at",
        at,
        "--yes",
        env={"DRKIT_PASSWORD": "nas passphrase"},
    ).check()
    assert f"imported {len(versions_before)} versions from {nas}" in done.stdout
    assert dk.config.read_text() == text_at_t
    users = {u["name"]: (u["roles"], u["permissions"]) for u in dk.json("user", "list")}
    assert users == {"alice": (["admin"], []), "bob": (["viewer"], ["failover"])}
    rebuilt = dk.json("config", "log")
    assert {v["uid"] for v in versions_before} <= {v["uid"] for v in rebuilt}
    assert rebuilt[0]["message"].startswith("restored version #")
    login = dk("config", "log", "drkit").check().stdout
    assert "user alice removed" in login  # the history after T came back too


def test_collection_pushes_into_the_configured_repositories(dk: Drkit, tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "app.ini").write_text("[db]\npassword = Zq0in0the0repository\n")
    _settings(
        dk,
        tmp_path,
        "config_history:\n"
        "  repositories: [nas]\n"
        f"  sources: [{{name: app, paths: ['{etc}/*.ini']}}]\n",
    )
    first = dk.json("config", "collect")
    assert first["ok"] and len(first["pushes"]) == 1 and not first["pushes"][0]["skipped"]
    assert dk.json("config", "collect")["pushes"][0]["skipped"]
    (etc / "app.ini").write_text("[db]\npassword = Zq0changed\n")
    third = dk.json("config", "collect")
    assert not third["pushes"][0]["skipped"]
    assert len(_snapshots(dk, "nas")) == 2
    # what the repository holds is the real content (encrypted by the repository)
    restored = tmp_path / "restored"
    dk("--repo", "nas", "restore", "latest", "--target", str(restored)).check()
    index = json.loads((restored / "config-history" / "versions.json").read_text())
    by_scope = {v["scope"]: v for v in index["versions"]}
    app = by_scope[f"file:local:{etc}/app.ini"]
    content = (restored / "config-history" / "content" / app["uid"]).read_text()
    assert content == "[db]\npassword = Zq0changed\n"
    for pack in (tmp_path / "nas").rglob("*"):
        if pack.is_file():
            assert b"Zq0changed" not in pack.read_bytes()


def test_a_failing_push_fails_the_collection(dk: Drkit, tmp_path: Path) -> None:
    _settings(dk, tmp_path, "config_history:\n  repositories: [nas]\n")
    (tmp_path / "nas.pw").write_text("wrong passphrase")
    done = dk("config", "collect")
    assert done.returncode == 52 and "nas" in done.stderr
