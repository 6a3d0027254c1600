"""Validation queries of a database source: what a restored copy must answer.

Written per source in drkit.yaml and run by restore tests and drills against
the database restored into a scratch server::

    - type: postgres
      dsn: postgresql://backup@db1/app
      checks:
        - {sql: "select count(*) from orders", min: 1000}
        - {sql: "select count(*) from customers where active"}   # min 1

The query's first column of its first row must be a number at least ``min``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SqlCheck(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sql: str = Field(min_length=1, description="A query whose first value is a number.")
    min: float = Field(default=1, description="The least value the restored copy must give.")

    def verdict(self, value: object) -> str | None:
        """None when ``value`` passes; else what is wrong (pure)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                number = float(str(value))
            except ValueError:
                return f"{self.sql!r} gave {value!r}, not a number"
        else:
            number = float(value)
        if number < self.min:
            return f"{self.sql!r} gave {value}, less than the expected minimum {self.min:g}"
        return None
