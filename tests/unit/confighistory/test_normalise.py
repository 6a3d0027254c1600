"""Normalisation: ignored lines and keys do not make a version; everything else does."""

from __future__ import annotations

import pytest

from drkit.confighistory.normalise import Normaliser, decode_text

YAML = """\
app:
  port: 8080
  generated_at: 2024-05-01T10:00:00
  build:
    id: 1234
    host: ci-7
name: web
"""


def test_plain_normaliser_keeps_every_line_but_not_line_endings() -> None:
    n = Normaliser()
    assert n.lines("a\r\nb\n") == ["a", "b"]
    assert n.digest(b"a\r\nb\n") == n.digest(b"a\nb\n")
    assert n.digest(b"a\nb\n") != n.digest(b"a\nc\n")


def test_ignored_lines_do_not_change_the_hash() -> None:
    n = Normaliser(ignore_lines=(r"^# generated ",))
    one = b"# generated 2024-05-01 10:00\nlisten 80;\n"
    two = b"# generated 2024-06-02 11:11\nlisten 80;\n"
    assert n.digest(one) == n.digest(two)
    assert n.digest(one) != n.digest(b"# generated 2024-05-01 10:00\nlisten 81;\n")
    assert n.lines(one.decode()) == ["listen 80;"]


@pytest.mark.parametrize(
    ("ignore", "expected"),
    [
        (
            ("generated_at",),
            ["app:", "  port: 8080", "  build:", "    id: 1234", "    host: ci-7", "name: web"],
        ),
        (("build",), ["app:", "  port: 8080", "  generated_at: 2024-05-01T10:00:00", "name: web"]),
        (
            ("app.build.id",),
            [
                "app:",
                "  port: 8080",
                "  generated_at: 2024-05-01T10:00:00",
                "  build:",
                "    host: ci-7",
                "name: web",
            ],
        ),
        (("*_at", "host"), ["app:", "  port: 8080", "  build:", "    id: 1234", "name: web"]),
    ],
)
def test_ignored_keys_drop_the_key_and_what_is_nested_under_it(
    ignore: tuple[str, ...], expected: list[str]
) -> None:
    assert Normaliser(ignore_keys=ignore).lines(YAML) == expected


@pytest.mark.parametrize(
    "text",
    [
        "[main]\nserial = 7\nport = 80\n",  # INI
        "serial = 7\nport = 80\n",  # TOML / env
        '{\n  "serial": 7,\n  "port": 80\n}\n',  # JSON
    ],
)
def test_ignored_keys_in_other_formats(text: str) -> None:
    n = Normaliser(ignore_keys=("serial",))
    changed = text.replace("7", "8")
    assert n.digest(text.encode()) == n.digest(changed.encode())
    assert n.digest(text.encode()) != n.digest(text.replace("80", "81").encode())


def test_binary_content_is_hashed_as_it_is() -> None:
    n = Normaliser(ignore_lines=(".*",))
    assert decode_text(b"\x00\x01") is None and decode_text(b"\xff\xfe") is None
    assert n.digest(b"\x00a") != n.digest(b"\x00b")
    assert decode_text("grüße\n".encode()) == "grüße\n"
