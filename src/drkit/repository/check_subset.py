"""Which packs a partial ``check --read-data-subset`` reads: ``N%``, ``n/t``, or named packs."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from drkit.errors import UsageError

_GROUP = re.compile(r"^(\d+)/(\d+)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


@dataclass(frozen=True)
class PackSubset:
    """Which packs ``--read-data`` reads: all, a random percentage, or group n of t.

    Group ``n/t`` holds the packs whose first byte (two hex digits) modulo
    ``t`` is ``n - 1``, so running ``1/t`` to ``t/t`` reads every pack once.
    """

    percent: float | None = None
    group: tuple[int, int] | None = None
    names: frozenset[str] | None = None  # exactly these packs (a rotation's choice)

    @classmethod
    def of(cls, names: Iterable[str]) -> PackSubset:
        """Read exactly the packs ``names`` (those still stored; others are skipped)."""
        return cls(names=frozenset(names))

    @classmethod
    def parse(cls, text: str) -> PackSubset:
        text = text.strip()
        if m := _GROUP.match(text):
            n, t = int(m[1]), int(m[2])
            if 1 <= n <= t:
                return cls(group=(n, t))
        elif m := _PERCENT.match(text):
            pct = float(m[1])
            if 0 < pct <= 100:
                return cls(percent=pct)
        raise UsageError(
            f"invalid read-data subset {text!r}",
            hint="give a percentage such as 10% (more than 0, at most 100), "
            "or n/t such as 1/5 (n from 1 to t)",
        )

    def select(self, names: Iterable[str], rng: random.Random | None = None) -> list[str]:
        """The chosen names among ``names``, sorted."""
        ordered = sorted(names)
        if self.names is not None:
            return [name for name in ordered if name in self.names]
        if self.group is not None:
            n, t = self.group
            return [name for name in ordered if int(name[:2], 16) % t == n - 1]
        if self.percent is not None:
            count = math.ceil(len(ordered) * self.percent / 100)
            return sorted((rng or random.SystemRandom()).sample(ordered, count))
        return ordered

    @property
    def reads_all(self) -> bool:
        return self.percent is None and self.group is None and self.names is None

    def describe(self) -> str:
        if self.group is not None:
            return f"{self.group[0]}/{self.group[1]}"
        if self.percent is not None:
            return f"{self.percent:g}%"
        if self.names is not None:
            return f"{len(self.names)} chosen packs"
        return "all"
