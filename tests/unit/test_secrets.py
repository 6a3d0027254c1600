"""drkit.secrets: one reader with one set of rules for env variables, files and commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.errors import DrkitError
from drkit.secrets import SecretUnavailable, read_secret

ENV = {"SET": "s3cret", "SPACED": " pw ", "EMPTY": ""}


def _file(tmp_path: Path, content: bytes | None) -> Path:
    path = tmp_path / "secret"
    if content is not None:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [("SET", "s3cret"), ("SPACED", " pw "), ("EMPTY", None), ("UNSET", None)],
)
def test_env(name: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(SecretUnavailable, match=f"variable {name} is not set or empty") as info:
            read_secret("the key", env=name, environ=ENV)
        assert info.value.hint and f"export {name}=..." in info.value.hint
    else:
        assert read_secret("the key", env=name, environ=ENV) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"pw\n", "pw"),
        (b"pw\r\n", "pw"),
        (b"pw", "pw"),
        (b" pw with spaces \n", " pw with spaces "),
        (b"first\nsecond\n", "first"),
        (None, "does not exist"),
        (b"", "is empty"),
        (b"\nlater\n", "is empty"),
        (b"  \nlater\n", "is empty"),
        (b"\xff\xfe\n", "not UTF-8 text"),
    ],
)
def test_file(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = _file(tmp_path, content)
    if expected in ("does not exist", "is empty", "not UTF-8 text"):
        with pytest.raises(SecretUnavailable, match=expected) as info:
            read_secret("the key", file=path)
        assert str(path) in info.value.message and info.value.hint
    else:
        assert read_secret("the key", file=path) == expected


def test_an_unreadable_file_is_an_error_not_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(SecretUnavailable, match="cannot read the file") as info:
        read_secret("the key", file=tmp_path)  # a directory: IsADirectoryError
    assert info.value.hint


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("printf 'from-cmd\\n'", "from-cmd"),
        ("printf 'a\\nb\\n'", "a"),
        ("echo oops >&2; exit 3", "failed with exit code 3"),
        ("true", "printed nothing"),
    ],
)
def test_command(command: str, expected: str) -> None:
    if " " in expected:
        with pytest.raises(SecretUnavailable, match=expected) as info:
            read_secret("the key", command=command)
        assert info.value.hint
    else:
        assert read_secret("the key", command=command) == expected


def test_a_failing_command_hints_with_its_stderr() -> None:
    with pytest.raises(SecretUnavailable) as info:
        read_secret("the key", command="echo 'no such entry' >&2; exit 1")
    assert info.value.hint == "no such entry"


def test_nothing_named_is_none() -> None:
    assert read_secret("the key") is None


def test_the_callers_error_class_is_raised() -> None:
    class Mine(DrkitError):
        code = "mine"
        exit_code = 42

    with pytest.raises(Mine, match=r"^the key: the environment variable X") as info:
        read_secret("the key", env="X", environ={}, error=Mine)
    assert info.value.exit_code == 42
