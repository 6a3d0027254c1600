"""`drkit user token add|list|revoke` and `drkit audit`, through the real command."""

from __future__ import annotations

import json
from pathlib import Path

from drkit.catalog import Catalog
from drkit.catalog.types import utcnow
from drkit.users.tokens import authenticate_token
from tests.conftest import Runner

PW = "a long enough password\n"


def _catalog(tmp_path: Path) -> Catalog:
    return Catalog.open(f"sqlite:///{tmp_path / 'home' / 'catalog.db'}")


def test_a_token_is_shown_once_stored_as_a_hash_and_refused_once_revoked(
    drkit: Runner, tmp_path: Path
) -> None:
    drkit("user", "add", "alice", "-g", "operator", "--password-stdin", input=PW).check()
    made = json.loads(
        drkit(
            "user",
            "token",
            "add",
            "alice",
            "--label",
            "ci",
            "-p",
            "view",
            "--expires",
            "30d",
            "--json",
        )
        .check()
        .stdout
    )
    secret = made["token"]
    assert secret.startswith("drkit_") and made["permissions"] == ["view"]
    catalog = _catalog(tmp_path)
    with catalog.engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM api_tokens"))
    assert secret.split("_")[2] not in dump  # only the hash is stored
    with catalog.session() as s:
        holder = authenticate_token(s, secret, utcnow())
    assert (
        holder is not None
        and holder.user == "alice"
        and {p.value for p in holder.permissions} == {"view"}
    )

    listed = json.loads(drkit("user", "token", "list", "--json").check().stdout)
    assert [(t["id"], t["state"]) for t in listed] == [(made["id"], "active")]
    assert "token" not in listed[0]  # never shown again

    drkit("user", "token", "revoke", made["id"]).check()
    with catalog.session() as s:
        assert authenticate_token(s, secret, utcnow()) is None
    listed = json.loads(drkit("user", "token", "list", "alice", "--json").check().stdout)
    assert listed[0]["state"] == "revoked"
    catalog.close()


def test_a_token_wider_than_its_user_is_refused(drkit: Runner) -> None:
    drkit("user", "add", "bob", "-g", "viewer", "--password-stdin", input=PW).check()
    wide = drkit("user", "token", "add", "bob", "-p", "failover")
    assert wide.returncode == 50 and "may not failover" in wide.stderr
    bad = drkit("user", "token", "add", "bob", "--expires", "someday")
    assert bad.returncode == 2 and "duration" in bad.stderr
    unknown = drkit("user", "token", "revoke", "0123456789ab")
    assert unknown.returncode == 50 and "no token" in unknown.stderr


def test_the_audit_log_has_every_user_change_and_failure(drkit: Runner) -> None:
    drkit(
        "user", "add", "alice", "-g", "admin", "--password-stdin", "--author", "carol", input=PW
    ).check()
    drkit("user", "grant", "nobody", "admin", "--author", "carol")
    drkit("user", "token", "add", "alice", "--author", "carol").check()
    log = json.loads(drkit("audit", "--json").check().stdout)
    assert [(e["actor"], e["action"], e["target"], e["outcome"]) for e in log] == [
        ("carol", "token.add", "alice", "ok"),
        ("carol", "user.grant", "nobody admin", "failed"),
        ("carol", "user.add", "alice", "ok"),
    ]
    assert log[1]["detail"].startswith("user-not-found") and log[0]["via"] == "cli"
    only = json.loads(drkit("audit", "--action", "user.", "--json").check().stdout)
    assert {e["action"] for e in only} == {"user.add", "user.grant"}
    assert "user.add" in drkit("audit").check().stdout
