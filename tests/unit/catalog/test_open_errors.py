"""Opening the catalog on a URL SQLAlchemy refuses: a CatalogUnavailable with a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from drkit.catalog import Catalog
from drkit.catalog.errors import CatalogUnavailable
from tests.conftest import Runner


@pytest.mark.parametrize(
    ("url", "said", "hinted"),
    [
        ("not a url", "not a database URL", "sqlite:///PATH"),  # sqlalchemy ArgumentError
        ("nosuch://host/db", "not a database URL", "sqlite:///PATH"),  # NoSuchModuleError
        ("mysql://ann:pw@host/db", "driver that is not installed", "PostgreSQL"),
        ("sqlite:////proc/no-such-dir/catalog.db", "cannot make the folder", "catalog.url"),
    ],
)
def test_a_url_the_library_refuses_is_a_catalog_error_with_a_hint(
    url: str, said: str, hinted: str
) -> None:
    with pytest.raises(CatalogUnavailable) as caught:
        Catalog.open(url)
    error = caught.value
    assert said in error.message and error.exit_code == 40
    assert error.hint and hinted in error.hint
    assert "pw@" not in error.message  # a password in the URL is never shown


def test_the_command_says_so_without_a_traceback(drkit: Runner, tmp_path: Path) -> None:
    config = tmp_path / "drkit.yaml"
    config.write_text('version: 1\ncatalog: {url: "nosuch://host/db"}\n')
    done = drkit("--config", str(config), "alerts")
    assert done.returncode == 40
    assert "not a database URL" in done.stderr and "hint:" in done.stderr
    assert "Traceback" not in done.stderr
