"""The configuration history with its catalog on PostgreSQL: users, versions and a
point-in-time restore of drkit's own configuration, all through the CLI."""

from __future__ import annotations

from drkit.catalog.types import utcnow
from tests.integration.confighistory.conftest import Drkit

PW = "a long enough password\n"


def test_users_and_restore_with_a_postgresql_catalog(dk: Drkit, pg_catalog_url: str) -> None:
    settings = f"version: 1\ncatalog:\n  url: {pg_catalog_url}\n"
    dk.config.write_text(settings)
    dk("user", "add", "alice", "-g", "admin", "--password-stdin", input=PW).check()
    at = utcnow().isoformat()
    dk("user", "grant", "alice", "failover").check()
    dk("user", "add", "bob", "-g", "viewer", "--password-stdin", input=PW).check()
    dk.config.write_text(settings + "# edited\n")
    assert len(dk.json("config", "log", "drkit")) == 5
    assert not (dk.home / "catalog.db").exists()  # everything went to PostgreSQL

    dk("config", "restore", "--at", at, "--yes").check()
    assert dk.config.read_text() == settings
    assert [(u["name"], u["permissions"]) for u in dk.json("user", "list")] == [("alice", [])]
