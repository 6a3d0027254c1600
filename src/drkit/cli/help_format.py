"""Help rendering: a flag shows no value type.

Typer's Rich help prints each option's type after its name (``--repo <str>``),
and does so for flags too: ``--quiet -q <bool>`` reads as if the flag took a
value. Click's plain help prints no metavar for flags; :func:`install` makes
the Rich help agree, for every command (the root group's and the lazily
loaded ones), since they all share Typer's option class.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperOption

_typed_display = TyperOption.display_type_rich


def _display_type_rich(self: TyperOption, ctx: Any) -> str | None:
    if self.is_flag:
        return None
    return _typed_display(self, ctx)


def install() -> None:
    TyperOption.display_type_rich = _display_type_rich  # type: ignore[method-assign]
