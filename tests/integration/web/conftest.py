"""The dashboard over the API fixture's real home and uvicorn, with users that have passwords."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from drkit.users import Role, store
from drkit.users.passwords import hash_password
from tests.integration.api.conftest import Api
from tests.integration.api.conftest import api as api  # the module-scoped real server

PASSWORD = "a long dashboard password"


@pytest.fixture(scope="module")
def site(api: Api) -> Api:
    with api.catalog().session() as s:
        for name, role in (("dana", Role.VIEWER), ("olga", Role.OPERATOR), ("ada", Role.ADMIN)):
            store.add_user(s, name, hash_password(PASSWORD), [role])
    return api


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


@contextmanager
def signed_in(site: Api, user: str) -> Iterator[httpx.Client]:
    """An HTTP client with a dashboard session of ``user``."""
    with httpx.Client(base_url=site.url, timeout=60) as c:
        form = c.get("/login")
        r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf": csrf_of(form)})
        assert r.status_code == 303, r.text[:300]
        yield c
