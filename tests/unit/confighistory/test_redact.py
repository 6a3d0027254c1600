"""Secret redaction: a secret value never appears in any listing, diff, page or JSON.

The property tests put random secrets into every format drkit knows and look
for them in every output; the tables pin down what is redacted and how a
changed secret is shown.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drkit.confighistory.model import Scope
from drkit.confighistory.normalise import Normaliser
from drkit.confighistory.redact import CHANGED, SECRET, Redactor
from drkit.confighistory.rules import ScopeRules
from tests.unit.confighistory.outputs import every_output

# (file name, template with {s} where the secret goes)
TEMPLATES = [
    ("app.yaml", "db:\n  user: app\n  password: {s}\n  port: 5432\n"),
    ("app.yaml", "db:\n  password: '{s}'\nother: 1\n"),
    ("app.yaml", "tls:\n  private_key: |\n    {s}\n    second{s}\n  cert: c.pem\nname: x\n"),
    ("app.yaml", "credentials:\n  user: bob\n  value: {s}\nname: x\n"),
    ("app.yaml", "servers:\n  - name: a\n    token: {s}\n  - name: b\n    token: {s}x\n"),
    ("app.yaml", "x: {{user: a, password: {s}}}\n"),
    ("app.yaml", "url: postgresql://app:{s}@db.internal:5432/app\n"),
    ("app.json", '{{\n  "name": "x",\n  "api_key": "{s}",\n  "n": 1\n}}\n'),
    ("app.json", '{{"a": 1, "auth": {{"client_secret": "{s}"}}, "b": 2}}\n'),
    ("app.ini", "[client]\nuser = app\npassword = {s}\n\n[server]\nport = 1\n"),
    ("app.toml", 'title = "x"\n[database]\nsecret_key = "{s}"\n'),
    ("app.env", "export DB_PASSWORD={s}\nDEBUG=1\n"),
    ("redis.conf", "port 6379\nrequirepass {s}\nmasterauth {s}\n"),
    ("app.service", "[Service]\nExecStart=/usr/bin/app --password={s} -v\n"),
    ("app.conf", "upstream = https://hooks.example/notify?token={s}&x=1\n"),
    ("app.conf", "conninfo = host=db user=app password={s} dbname=app\n"),
    ("app.xml", "<config><db><password>{s}</password></db></config>\n"),
    (
        "id.key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{s}\n{s}AAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    ),
    ("app.yaml", 'key: "-----BEGIN PRIVATE KEY-----\\n{s}\\n-----END PRIVATE KEY-----\\n"\n'),
    ("app.sh", "curl -H 'Authorization: Bearer {s}' https://api\n"),
]

# what passwords hold, short of characters that would change the meaning of a template
PASSWORD_CHARACTERS = string.ascii_letters + string.digits + "-_.~!$*+=^%"
secrets_ = st.text(alphabet=PASSWORD_CHARACTERS, min_size=10, max_size=32).map(lambda s: "Zq" + s)


def _rules() -> ScopeRules:
    return ScopeRules(Normaliser(), Redactor())


@settings(max_examples=60, deadline=None)
@given(old=secrets_, new=secrets_, index=st.integers(0, len(TEMPLATES) - 1))
def test_no_secret_value_appears_in_any_output(old: str, new: str, index: int) -> None:
    name, template = TEMPLATES[index]
    assume(old != new and old not in template and new not in template)
    assume(not (old in new or new in old))
    scope = Scope.file("web1", f"/etc/app/{name}")
    shown = every_output(
        scope, _rules(), template.format(s=old).encode(), template.format(s=new).encode()
    )
    assert old not in shown and new not in shown
    assert CHANGED in shown or "binary" in shown


@pytest.mark.parametrize(("name", "template"), TEMPLATES)
def test_every_template_redacts_and_marks_the_change(name: str, template: str) -> None:
    old, new = "Zqold0secret0value", "Zqnew1secret1value"
    shown = every_output(
        Scope.file("local", f"/etc/{name}"),
        _rules(),
        template.format(s=old).encode(),
        template.format(s=new).encode(),
    )
    assert old not in shown and new not in shown
    assert CHANGED in shown


def test_unchanged_secrets_make_no_diff_lines() -> None:
    r = Redactor()
    old = ["password: one1", "port: 1"]
    shown_old, shown_new = r.pair(old, ["password: one1", "port: 2"])
    assert shown_old == ["password: <secret>", "port: 1"]
    assert shown_new == ["password: <secret>", "port: 2"]


def test_a_changed_secret_is_labelled_only_on_the_new_side() -> None:
    shown_old, shown_new = Redactor().pair(["a:", "  token: x1"], ["a:", "  token: x2"])
    assert shown_old[1] == f"  token: {SECRET}" and shown_new[1] == f"  token: {CHANGED}"


def test_secrets_are_matched_by_their_key_path_not_their_line() -> None:
    old = ["a:", "  password: one", "b:", "  password: two"]
    new = ["x: 1", "a:", "  password: one", "b:", "  password: three"]
    _, shown_new = Redactor().pair(old, new)
    assert shown_new == ["x: 1", "a:", f"  password: {SECRET}", "b:", f"  password: {CHANGED}"]


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "DB_PASSWORD",
        "passwd",
        "pass",
        "secret",
        "client_secret",
        "api_key",
        "apiKey",
        "token",
        "auth_token",
        "private_key",
        "access_key",
        "requirepass",
        "masterauth",
        "slack_webhook",
        "credentials",
        "sentry_dsn",
        "pwd",
        "cookie_secret",
        "Authorization",
    ],
)
def test_secret_looking_keys(key: str) -> None:
    assert Redactor().is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "port",
        "host",
        "user",
        "password_file",
        "key_path",
        "access_key_env",
        "passive_ports",
        "bypass",
        "compass",
        "name",
        "keep_daily",
        "url",
    ],
)
def test_keys_that_only_say_where_a_secret_is_or_look_alike_are_shown(key: str) -> None:
    assert not Redactor().is_secret_key(key)


def test_configured_keys_and_patterns() -> None:
    r = Redactor(keys=("*_pin", "vault.*"), patterns=(r"LIC-(\w+)", r"sk_live_\w+"))
    shown = r.show(
        [
            "door_pin: 1234",
            "vault:",
            "  path: /x",
            "license LIC-ABCD1234 ok",
            "stripe sk_live_abc123 here",
        ]
    )
    text = "\n".join(shown)
    for value in ("1234", "/x", "ABCD1234", "sk_live_abc123"):
        assert value not in text
    assert "LIC-<secret> ok" in text  # only the group is hidden


def test_well_known_token_shapes_are_redacted_anywhere() -> None:
    lines = [
        "aws AKIAABCDEFGHIJKLMNOP here",
        "gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 here",
        "slack xoxb-1234567890-abcdefghij here",
        "notify https://hooks.slack.com/services/T000/B000/XXXXXXXX here",
    ]
    text = "\n".join(Redactor().show(lines))
    for secret in ("AKIAABCDEFGHIJKLMNOP", "ghp_abcdefghij", "xoxb-1234567890", "B000/XXXXXXXX"):
        assert secret not in text
    assert text.count(SECRET) == 4


def test_value_pair_for_structured_diffs() -> None:
    r = Redactor()
    assert r.value_pair("db.password", "a", "b") == (SECRET, CHANGED)
    assert r.value_pair("db.password", None, "b") == (None, SECRET)
    assert r.value_pair("db.url", "pg://u:p1@h/x", "pg://u:p2@h/x") == (
        f"pg://u:{SECRET}@h/x",
        f"pg://u:{CHANGED}@h/x",
    )
    assert r.value_pair("db.port", "1", "2") == ("1", "2")


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        # nginx's *_pass directives name an address: the one line needed in an incident
        ("    proxy_pass http://127.0.0.1:8081;", "    proxy_pass http://127.0.0.1:8081;"),
        ("fastcgi_pass unix:/run/php/php-fpm.sock;", "fastcgi_pass unix:/run/php/php-fpm.sock;"),
        ("uwsgi_pass 127.0.0.1:9000;", "uwsgi_pass 127.0.0.1:9000;"),
        # ... but credentials in it, or a *_pass that is a password, stay hidden
        ("proxy_pass http://u:hunter2@h:1/;", f"proxy_pass {SECRET};"),
        ("db_pass hunter2;", f"db_pass {SECRET};"),
        ("requirepass hunter2", f"requirepass {SECRET}"),
        ("webhook = https://hooks.example.com/abc", f"webhook = {SECRET}"),
    ],
)
def test_an_address_is_not_a_secret_and_the_semicolon_stays(line: str, shown: str) -> None:
    assert Redactor().show([line]) == [shown]
