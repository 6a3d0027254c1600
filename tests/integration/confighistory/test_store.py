"""The version store on a real catalog (SQLite and PostgreSQL): only changes are stored,
each scope has its own history, concurrent recorders store a change once, contents are
encrypted, and the migration matches the models."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from drkit.catalog import Catalog
from drkit.catalog.tables import Base
from drkit.catalog.types import utcnow
from drkit.confighistory.errors import HistoryKeyMismatch, HistoryKeyMissing, VersionNotFound
from drkit.confighistory.model import Scope
from drkit.confighistory.store import NewVersion, VersionStore
from drkit.confighistory.tables import ConfigVersionRow
from drkit.users.tables import UserGrantRow, UserRow

NGINX = Scope.file("web1", "/etc/nginx/nginx.conf")
APP = Scope.file("local", "/etc/app.yaml")


def _new(scope: Scope, content: bytes, author: str = "ann") -> NewVersion:
    return NewVersion(scope, content, f"h-{content.hex()}", author, "m", 0o640)


def test_only_changes_are_stored_and_each_file_has_its_own_history(
    catalog: Catalog, tmp_path: Path
) -> None:
    store = VersionStore(catalog, tmp_path)
    first = store.record(_new(NGINX, b"a"))
    assert first is not None and first.scope == NGINX and first.mode == 0o640
    assert store.record(_new(NGINX, b"a")) is None  # nothing changed: nothing stored
    assert store.record(_new(APP, b"a")) is not None  # same content, other file: its own
    second = store.record(_new(NGINX, b"b", author="bob"))
    assert second is not None and second.author == "bob"
    assert store.record(_new(NGINX, b"a")) is not None  # back to the old content: a change
    assert [v.id for v in store.history([NGINX])] == [second.id + 1, second.id, first.id]
    assert len(store.history([APP])) == 1
    assert store.scopes() == sorted([NGINX, APP])
    assert store.content(second) == b"b"


def test_the_version_in_force_at_a_time(catalog: Catalog, tmp_path: Path) -> None:
    store = VersionStore(catalog, tmp_path)
    before = utcnow()
    one = store.record(_new(NGINX, b"1"))
    between = utcnow()
    two = store.record(_new(NGINX, b"2"))
    assert one is not None and two is not None
    assert store.at(NGINX, before - timedelta(seconds=1)) is None
    assert store.at(NGINX, between) == one
    assert store.at(NGINX, utcnow()) == two
    assert store.newest(NGINX) == two
    with pytest.raises(VersionNotFound):
        store.get(9999)


def test_concurrent_recorders_store_one_change_once(catalog_url: str, tmp_path: Path) -> None:
    catalogs = [Catalog.open(catalog_url) for _ in range(6)]
    results: list[object] = []
    start = threading.Barrier(len(catalogs))

    def record(c: Catalog) -> None:
        start.wait()
        results.append(VersionStore(c, tmp_path).record(_new(NGINX, b"same")))

    threads = [threading.Thread(target=record, args=(c,)) for c in catalogs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in catalogs:
        c.close()
    assert len(results) == 6
    assert sum(1 for r in results if r is not None) == 1
    check = Catalog.open(catalog_url)
    try:
        assert len(VersionStore(check, tmp_path).history([NGINX])) == 1
    finally:
        check.close()


def test_contents_are_encrypted_in_the_catalog(catalog: Catalog, tmp_path: Path) -> None:
    store = VersionStore(catalog, tmp_path)
    version = store.record(_new(APP, b"password: hunter2hunter2\n"))
    assert version is not None
    with catalog.session() as s:
        row = s.scalar(select(ConfigVersionRow))
        assert row is not None and b"hunter2" not in row.content
    assert store.content(version) == b"password: hunter2hunter2\n"


def test_a_lost_key_is_never_replaced_silently(catalog: Catalog, tmp_path: Path) -> None:
    VersionStore(catalog, tmp_path / "home").record(_new(APP, b"one"))
    (tmp_path / "home" / "confighistory.key").unlink()
    store = VersionStore(catalog, tmp_path / "home")
    with pytest.raises(HistoryKeyMissing) as caught:
        store.record(_new(APP, b"two"))
    assert "--from-repository" in caught.value.hint
    assert not (tmp_path / "home" / "confighistory.key").exists()
    with pytest.raises(HistoryKeyMissing):
        store.content(store.history()[0])
    other = VersionStore(catalog, tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "confighistory.key").write_text("ab" * 32 + "\n")
    with pytest.raises(HistoryKeyMismatch):
        other.content(other.history()[0])


def test_import_keeps_uid_time_and_skips_what_is_known(catalog: Catalog, tmp_path: Path) -> None:
    source = VersionStore(catalog, tmp_path / "a")
    one = source.record(_new(APP, b"1"))
    two = source.record(_new(APP, b"2"))
    assert one is not None and two is not None
    other = Catalog.open(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        target = VersionStore(other, tmp_path / "b")
        assert target.import_version(two, b"2") and target.import_version(one, b"1")
        assert not target.import_version(one, b"1")
        got = target.history()
        assert [(v.uid, v.created_at) for v in got] == [
            (two.uid, two.created_at),
            (one.uid, one.created_at),
        ]
        assert target.head_hash(APP) == two.content_hash  # the newest is the head
        assert target.record(_new(APP, b"2")) is None
    finally:
        other.close()


def test_the_migration_creates_exactly_the_models_tables(catalog: Catalog) -> None:
    ours = {"config_versions", "config_heads", UserRow.__tablename__, UserGrantRow.__tablename__}
    assert "0008" in catalog.revisions()  # its branch: 0002, 0006 (tokens, audit), 0007, 0008
    with catalog.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        differences = [d for d in compare_metadata(context, Base.metadata) if _touches(d, ours)]
    assert differences == []


def _touches(difference: object, tables: set[str]) -> bool:
    """Whether an Alembic autogenerate difference concerns one of ``tables``."""
    parts = difference if isinstance(difference, tuple | list) else (difference,)
    for part in parts:
        if isinstance(part, tuple | list) and _touches(part, tables):
            return True
        if isinstance(part, str) and part in tables:
            return True
        table = getattr(part, "table", None)
        if getattr(part, "name", None) in tables or getattr(table, "name", None) in tables:
            return True
    return False
