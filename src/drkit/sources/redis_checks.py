"""Validation commands of a Redis source: what a restored copy must answer.

Written per source in drkit.yaml and run by restore tests and drills against
the RDB loaded into a scratch redis-server::

    - type: redis
      url: redis://cache1:6379
      checks:
        - {command: DBSIZE, min: 10000}          # keys in database 0
        - {command: "SCARD active-users"}       # min 1

The command's reply must be a number at least ``min``.
"""

from __future__ import annotations

import shlex

from pydantic import BaseModel, ConfigDict, Field

from drkit.sources.sql_checks import SqlCheck


class RedisCheck(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str = Field(
        default="DBSIZE", min_length=1, description="A command with a number reply."
    )
    min: float = Field(default=1, description="The least value the restored copy must give.")

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command)

    def verdict(self, value: object) -> str | None:
        """None when ``value`` passes; else what is wrong (pure)."""
        return SqlCheck(sql=self.command, min=self.min).verdict(value)
