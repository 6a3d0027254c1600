"""The dashboard over the API fixture's real home and uvicorn, with users that have passwords."""

from __future__ import annotations

import pytest

from drkit.users import Role, store
from drkit.users.passwords import hash_password
from tests.integration.api.conftest import Api
from tests.integration.api.conftest import api as api  # the module-scoped real server

PASSWORD = "a long dashboard password"


@pytest.fixture(scope="module")
def site(api: Api) -> Api:
    with api.catalog().session() as s:
        for name, role in (("dana", Role.VIEWER), ("olga", Role.OPERATOR)):
            store.add_user(s, name, hash_password(PASSWORD), [role])
    return api
