"""Detecting procedures and functions that mariadb-dump left out.

``mariadb-dump --routines`` writes a ``CREATE DEFINER=... PROCEDURE`` or
``FUNCTION`` statement per routine it may read; a backup user without the
privilege to read routine bodies (``SELECT`` on ``mysql.proc``) gets none of
them, and the dump still ends well. :class:`RoutineCounter` counts those
statements as the stream goes by; :meth:`require` compares with the number of
routines the server lists for the database and refuses the snapshot when some
are missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from drkit.sources.errors import DumpFailed

_ROUTINE = re.compile(rb"^CREATE DEFINER=\S+ (?:PROCEDURE|FUNCTION) ", re.MULTILINE)


class RoutineCounter:
    def __init__(self) -> None:
        self.found = 0
        self._carry = b""

    def watch(self, blocks: Iterable[bytes]) -> Iterator[bytes]:
        for block in blocks:
            text = self._carry + block
            cut = text.rfind(b"\n") + 1  # count whole lines; keep the last partial one
            self.found += len(_ROUTINE.findall(text, 0, cut)) if cut else 0
            self._carry = text[cut:][-4096:]
            yield block
        self.found += len(_ROUTINE.findall(self._carry))
        self._carry = b""

    def require(self, expected: int, database: str) -> None:
        if self.found < expected:
            raise DumpFailed(
                f"the dump of {database} holds {self.found} of its {expected} procedures and "
                "functions: the backup user may not read routine bodies",
                hint="grant it SELECT ON mysql.proc (see docs/sources.md); nothing was recorded",
            )
