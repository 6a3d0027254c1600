"""``action: sql``: run a query on PostgreSQL or MariaDB/MySQL and check its answer.

```yaml
- id: writable
  action: sql
  with:
    dsn: postgresql://postgres@10.0.0.2:5432/app
    query: "select pg_is_in_recovery()"
    expect: {value: "false"}
```

The DSN picks the driver: ``postgresql://`` / ``postgres://`` (psycopg) or
``mysql://`` / ``mariadb://`` (PyMySQL). Statements run in autocommit, so a
write check (``insert ... returning``) really writes. Checks: ``rows`` (how
many rows came back), ``value`` (the first column of the first row, as
text; booleans as ``true``/``false``), ``regex`` (matched against that value).
Outputs: ``value`` and ``rows``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator

from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed

POSTGRES = ("postgresql", "postgres")
MYSQL = ("mysql", "mariadb")
Rows = list[tuple[object, ...]]


class SqlExpect(ActionArgs):
    rows: int | None = Field(default=None, ge=0, description="Number of rows returned.")
    value: str | None = Field(default=None, description="First column of the first row.")
    regex: str | None = Field(default=None, description="Regex the first value must match.")


class SqlArgs(ActionArgs):
    dsn: str = Field(description="postgresql://USER@HOST:PORT/DB or mysql://USER:PW@HOST/DB")
    query: str = Field(min_length=1, description="One SQL statement.")
    timeout: float = Field(default=10, gt=0, description="Seconds to connect and to run.")
    expect: SqlExpect = Field(default_factory=SqlExpect, description="What the answer must be.")

    @field_validator("dsn")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in (*POSTGRES, *MYSQL):
            raise ValueError(
                "dsn must start with postgresql://, postgres://, mysql:// or mariadb://"
            )
        return value


@register
class SqlAction(Action[SqlArgs]):
    type = "sql"

    def run(self, args: SqlArgs, ctx: ActionContext) -> ActionResult:
        timeout = min(args.timeout, ctx.timeout_s) if ctx.timeout_s else args.timeout
        rows = query(args.dsn, args.query, timeout)
        value = text_of(rows[0][0]) if rows and rows[0] else ""
        ctx.log(f"{len(rows)} row(s); first value {value!r}")
        _check(args.expect, rows, value)
        return ActionResult(output=_table(rows), outputs={"value": value, "rows": str(len(rows))})

    def describe(self, args: SqlArgs) -> str:
        return f"on {redact(args.dsn)}: {args.query}"


def query(dsn: str, statement: str, timeout: float) -> Rows:
    """Run one statement and return its rows (none for statements without a result)."""
    scheme = urlsplit(dsn).scheme
    try:
        if scheme in POSTGRES:
            return _postgres(dsn, statement, timeout)
        return _mysql(dsn, statement, timeout)
    except ActionFailed:
        raise
    except Exception as exc:  # the drivers' error trees differ: translate all at the boundary
        first_line = (str(exc).strip().splitlines() or [""])[0]
        raise ActionFailed(
            f"{redact(dsn)}: {type(exc).__name__}: {first_line}",
            hint="check that the database is up, the DSN and the query",
        ) from exc


def _postgres(dsn: str, statement: str, timeout: float) -> Rows:
    from drkit import pgconnect

    with (
        pgconnect.connect(
            dsn, timeout_s=timeout, statement_timeout_s=timeout, application_name="drkit-runbook"
        ) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute(statement.encode())
        return list(cursor.fetchall()) if cursor.description else []


def _mysql(dsn: str, statement: str, timeout: float) -> Rows:
    import pymysql

    url = urlsplit(dsn)
    seconds = max(1, int(timeout))
    conn = pymysql.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 3306,
        user=unquote(url.username or "root"),
        password=unquote(url.password or ""),
        database=url.path.lstrip("/") or None,
        connect_timeout=seconds,
        read_timeout=seconds,
        write_timeout=seconds,
        autocommit=True,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
            return list(cursor.fetchall()) if cursor.description else []
    finally:
        conn.close()


def text_of(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def _check(expect: SqlExpect, rows: Rows, value: str) -> None:
    if expect.rows is not None and len(rows) != expect.rows:
        raise ActionFailed(f"the query returned {len(rows)} row(s), expected {expect.rows}")
    if expect.value is not None and value != expect.value:
        raise ActionFailed(f"the query returned {value!r}, expected {expect.value!r}")
    if expect.regex is not None and re.search(expect.regex, value) is None:
        raise ActionFailed(f"the query returned {value!r}, which does not match {expect.regex!r}")


def _table(rows: Rows) -> str:
    return "\n".join("\t".join(text_of(v) for v in row) for row in rows[:50])


def redact(dsn: str) -> str:
    """The DSN without its password, for logs and guides."""
    url = urlsplit(dsn)
    if url.password is None:
        return dsn
    netloc = url.netloc.replace(f":{url.password}@", ":***@", 1)
    return url._replace(netloc=netloc).geturl()
