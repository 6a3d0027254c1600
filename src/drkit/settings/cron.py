"""Cron expressions in drkit.yaml, checked when the file is loaded.

Five fields (minute hour day-of-month month day-of-week) as in crontab, or
the shorthands ``@hourly``, ``@daily``, ``@weekly``, ``@monthly``,
``@yearly``. Parsed by croniter; a bad expression is reported at its line.
"""

from __future__ import annotations

from typing import Annotated

from croniter import croniter
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

SHORTHANDS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def normalise_cron(text: str) -> str:
    """Return the five-field form of ``text``, or raise PydanticCustomError explaining why not."""
    expression = SHORTHANDS.get(text.strip(), " ".join(text.split()))
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise PydanticCustomError(
            "cron",
            "{text!r} is not a cron expression: write five fields (minute hour day month "
            "weekday) such as '0 2 * * *', or @hourly/@daily/@weekly/@monthly",
            {"text": text},
        )
    return expression


CronExpr = Annotated[str, AfterValidator(normalise_cron)]
"""A validated five-field cron expression."""
