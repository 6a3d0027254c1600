"""The dashboard over the API fixture's real home and uvicorn, with users that have passwords."""

from __future__ import annotations

import json
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


DRILLED = """\
name: restore-db
description: Bring the database back from the newest snapshot.
rto: 1s
inputs:
  t: {description: "seconds the restore takes", default: "0.1"}
  code: {description: "exit status", default: "0"}
steps:
  - id: restore
    name: Restore the database
    action: shell
    with: {command: "sleep ${{ inputs.t }}; exit ${{ inputs.code }}"}
  - id: check
    name: Check it answers
    action: shell
    with: {command: "true"}
"""


def add_drills(site: Api) -> list[int]:
    """The runbook restore-db and three drills of it: met, missed (1.2 s > 1 s), failed."""
    (site.root / "restore-db.yaml").write_text(DRILLED)
    site.drkit("runbook", "save", str(site.root / "restore-db.yaml")).check()
    ids = []
    for t, code, status in (("0.1", "0", 0), ("1.2", "0", 62), ("0.1", "3", 61)):
        r = site.drkit("runbook", "run", "restore-db", "--drill", "--json", "--input", f"t={t}",
                       "--input", f"code={code}")  # fmt: skip
        assert r.returncode == status, r.stderr
        ids.append(json.loads(r.stdout)["run_id"])
    return ids
