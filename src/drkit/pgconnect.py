"""Opening a PostgreSQL connection, the one way drkit does it.

Every place that talks to PostgreSQL through psycopg (the HA database
driver, the sql health check, the ``sql`` and ``postgres.*`` runbook actions)
connects here: a whole-second ``connect_timeout`` of at least 1 (libpq's
unit), autocommit unless asked otherwise, an ``application_name`` naming
the drkit part (seen in ``pg_stat_activity``), an optional statement
timeout, and parameters given as None left out (libpq's defaults apply).
Secrets are read by the caller with :func:`drkit.secrets.read_secret`.
Callers translate ``psycopg.Error`` into their domain's error at their
boundary, each with its own words.

Imports nothing of drkit, so any package may use it.
"""

from __future__ import annotations

import math
from typing import Any

import psycopg


def connect(
    conninfo: str = "",
    *,
    timeout_s: float,
    application_name: str = "drkit",
    statement_timeout_s: float | None = None,
    autocommit: bool = True,
    **params: Any,
) -> psycopg.Connection[Any]:
    """A connection to ``conninfo`` and/or ``params`` (host, port, user, dbname, password)."""
    given = {key: value for key, value in params.items() if value is not None}
    if statement_timeout_s is not None:
        given["options"] = f"-c statement_timeout={int(statement_timeout_s * 1000)}"
    return psycopg.connect(
        conninfo,
        connect_timeout=max(1, math.ceil(timeout_s)),
        autocommit=autocommit,
        application_name=application_name,
        **given,
    )
