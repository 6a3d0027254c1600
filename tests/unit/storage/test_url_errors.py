"""A storage URL urllib cannot split (a '[' without its ']') is a UsageError with a hint."""

from __future__ import annotations

import pytest

from drkit.errors import UsageError
from drkit.storage import open_backend
from tests.conftest import Runner


@pytest.mark.parametrize(
    "url",
    [
        "s3://bucket?endpoint=http://[::1/x",  # the endpoint
        "s3://[bucket/x",  # the URL itself
        "sftp://ann@[::1/srv/backup",
    ],
)
def test_an_unsplittable_url_is_a_usage_error_with_a_hint(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        open_backend(url)
    error = caught.value
    assert error.hint and "not a URL" in f"{error.message} {error.hint}"


def test_the_command_says_so_without_a_traceback(drkit: Runner) -> None:
    done = drkit("--repo", "sftp://ann@[::1/srv/backup", "snapshots")
    assert done.returncode == 2 and "not a URL" in done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr
