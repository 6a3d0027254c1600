"""Diffs by key for YAML, JSON, TOML and INI, and drkit's own configuration."""

from __future__ import annotations

import pytest

from drkit.confighistory.compare import Side, key_diff
from drkit.confighistory.drkit_state import DrkitState
from drkit.confighistory.errors import StructureError
from drkit.confighistory.model import Scope
from drkit.confighistory.normalise import Normaliser
from drkit.confighistory.redact import CHANGED, SECRET, Redactor
from drkit.confighistory.rules import ScopeRules
from drkit.confighistory.structured import (
    FileFormat,
    KeyChange,
    detect_format,
    flatten,
    parse_flat,
)
from drkit.users.model import UserRecord

RULES = ScopeRules(Normaliser(), Redactor())

OLD = {
    "yaml": "db:\n  host: a\n  port: 5432\n  password: p1\nhosts: [x, y]\nempty: {}\n",
    "json": '{"db": {"host": "a", "port": 5432, "password": "p1"}, "hosts": ["x", "y"], '
    '"empty": {}}',
    "toml": 'hosts = ["x", "y"]\n[db]\nhost = "a"\nport = 5432\npassword = "p1"\n',
    "ini": "[db]\nhost = a\nport = 5432\npassword = p1\n",
}
NEW = {
    "yaml": "db:\n  host: b\n  port: 5432\n  password: p2\n  ssl: true\nhosts: [x]\nempty: {}\n",
    "json": '{"db": {"host": "b", "port": 5432, "password": "p2", "ssl": true}, "hosts": ["x"], '
    '"empty": {}}',
    "toml": 'hosts = ["x"]\n[db]\nhost = "b"\nport = 5432\npassword = "p2"\nssl = true\n',
    "ini": "[db]\nhost = b\nport = 5432\npassword = p2\nssl = true\n",
}


def _diff(suffix: str, old: str, new: str, rules: ScopeRules = RULES) -> list[tuple[str, ...]]:
    scope = Scope.file("local", f"/etc/app.{suffix}")
    result = key_diff(
        Side(scope, rules, old.encode(), "old"), Side(scope, rules, new.encode(), "new")
    )
    return [(r.path, r.change.value, r.old or "", r.new or "") for r in result.rows]


@pytest.mark.parametrize("suffix", ["yaml", "json", "toml", "ini"])
def test_added_removed_changed_and_secret_rows(suffix: str) -> None:
    rows = _diff(suffix, OLD[suffix], NEW[suffix])
    assert ("db.host", "changed", "a", "b") in rows
    assert ("db.password", "changed", SECRET, CHANGED) in rows
    assert ("db.ssl", "added", "", "true") in rows
    assert all(path != "db.port" for path, *_ in rows)  # unchanged keys are not listed
    if suffix != "ini":
        assert ("hosts[1]", "removed", "y", "") in rows
    text = repr(rows)
    assert "p1" not in text and "p2" not in text


def test_ignored_keys_are_not_listed() -> None:
    rules = ScopeRules(Normaliser(ignore_keys=("host",)), Redactor())
    rows = _diff("yaml", OLD["yaml"], NEW["yaml"], rules)
    assert all(path != "db.host" for path, *_ in rows)
    assert any(path == "db.ssl" for path, *_ in rows)


def test_formats_by_name() -> None:
    assert detect_format("/etc/a.yml") is FileFormat.YAML
    assert detect_format("/etc/my.cnf") is FileFormat.INI
    assert detect_format("/etc/x.TOML") is FileFormat.TOML
    assert detect_format("/etc/nginx/nginx.conf") is None
    assert detect_format("/etc/dir.d/file") is None


def test_a_file_without_keys_or_that_does_not_parse_is_a_clear_error() -> None:
    with pytest.raises(StructureError, match="not a YAML, JSON, TOML, INI or key-value"):
        _diff("conf", "a b\n", "a c\n")
    with pytest.raises(StructureError, match="does not parse as JSON") as caught:
        _diff("json", "{", "{}")
    assert caught.value.exit_code == 50 and "--by-key" in caught.value.hint


def test_flatten_names_lists_and_dotted_keys() -> None:
    flat = flatten({"a": {"b.c": 1, "l": [{"x": None}, True]}, "e": []})
    assert flat == {'a."b.c"': "1", "a.l[0].x": "null", "a.l[1]": "true", "e": "[]"}


def test_drkit_configuration_by_key_includes_users_and_hides_their_hashes() -> None:
    def state(url: str, grants: tuple[str, ...], pw: str) -> bytes:
        settings = f"version: 1\nrepositories:\n  nas: {{url: {url}}}\n"
        users = (UserRecord("ann", pw, grants),)
        return DrkitState("/etc/drkit.yaml", settings, (), users).to_content()

    scope = Scope.drkit()
    result = key_diff(
        Side(scope, RULES, state("/a", ("viewer",), "$argon2id$one"), "old"),
        Side(scope, RULES, state("/b", ("admin",), "$argon2id$two"), "new"),
    )
    rows = {r.path: (r.change, r.old, r.new) for r in result.rows}
    assert rows["drkit.yaml.repositories.nas.url"] == (KeyChange.CHANGED, "/a", "/b")
    assert rows["users.ann.grants"] == (KeyChange.CHANGED, "viewer", "admin")
    assert rows["users.ann.password_hash"] == (KeyChange.CHANGED, SECRET, CHANGED)


@pytest.mark.parametrize(
    "path",
    ["/srv/app/.env", "/srv/app/.env.production", "/etc/app/app.env",
     "/etc/postgresql/15/main/postgresql.conf", "/var/lib/pg/postgresql.auto.conf"],
)  # fmt: skip
def test_env_files_and_postgresql_conf_are_key_value_files(path: str) -> None:
    assert detect_format(path) is FileFormat.KEY_VALUE


def test_key_value_files_parse_like_their_programs() -> None:
    env = 'export DB_HOST=db1\nDB_PORT = 5432\n# comment\n\nGREETING="hi # there"\n'
    assert parse_flat(env, FileFormat.KEY_VALUE, ".env") == {
        "DB_HOST": "db1",
        "DB_PORT": "5432",
        "GREETING": "hi # there",
    }
    conf = (
        "shared_buffers = 128MB   # min 128kB\n"
        "listen_addresses = 'localhost'\n"
        "log_line_prefix = '%m [%p] it''s '\n"
        "max_connections 100\n"
        "max_connections = 200\n"  # the later one wins, as in PostgreSQL
    )
    assert parse_flat(conf, FileFormat.KEY_VALUE, "postgresql.conf") == {
        "shared_buffers": "128MB",
        "listen_addresses": "localhost",
        "log_line_prefix": "%m [%p] it's ",
        "max_connections": "200",
    }
    with pytest.raises(StructureError, match="line 1"):
        parse_flat("= nope\n", FileFormat.KEY_VALUE, ".env")
