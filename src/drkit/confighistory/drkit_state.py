"""drkit's own configuration as one versioned document.

A version of the ``drkit`` scope holds drkit.yaml (repositories, policies and
schedules, notification backends, catalog, daemon, hosts...), the runbook
files and any extra ``config_history.drkit_files``, and every user with
their password hash and grants. Its content is canonical JSON; its hash
leaves out where drkit.yaml was, so running drkit with another ``--config``
path to the same text is no change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drkit.confighistory.drkit_files import RUNBOOKS_PREFIX as RUNBOOKS_PREFIX
from drkit.confighistory.drkit_files import drkit_files as drkit_files
from drkit.confighistory.drkit_files import runbooks_dir as runbooks_dir
from drkit.confighistory.errors import StructureError
from drkit.confighistory.structured import detect_format, parse_flat
from drkit.users.model import UserRecord

if TYPE_CHECKING:
    pass

FORMAT = 1
SETTINGS_NAME = "drkit.yaml"


@dataclass(frozen=True)
class DrkitState:
    settings_path: str | None  # where drkit.yaml was; None when drkit ran on defaults
    settings_text: str | None
    files: tuple[tuple[str, str], ...]  # ("runbooks/NAME.yaml" or an absolute path, text)
    users: tuple[UserRecord, ...]

    # -- content ---------------------------------------------------------------------
    def _document(self, *, with_path: bool) -> dict[str, object]:
        doc: dict[str, object] = {
            "format": FORMAT,
            "settings": self.settings_text,
            "files": dict(self.files),
            "users": [
                {"name": u.name, "password_hash": u.password_hash, "grants": list(u.grants)}
                for u in self.users
            ],
        }
        if with_path:
            doc["settings_path"] = self.settings_path
        return doc

    def to_content(self) -> bytes:
        return _canonical(self._document(with_path=True))

    def digest(self) -> str:
        return hashlib.sha256(_canonical(self._document(with_path=False))).hexdigest()

    @classmethod
    def from_content(cls, data: bytes) -> DrkitState:
        doc = json.loads(data)
        if doc.get("format") != FORMAT:
            raise StructureError(
                f"this version of drkit's configuration has format {doc.get('format')!r}; "
                f"this drkit reads format {FORMAT}",
                hint="use a newer drkit to read it",
            )
        users = tuple(
            UserRecord(u["name"], u["password_hash"], tuple(u["grants"])) for u in doc["users"]
        )
        files = tuple(sorted(doc["files"].items()))
        return cls(doc.get("settings_path"), doc["settings"], files, users)

    # -- display -----------------------------------------------------------------------
    def render_lines(self) -> list[str]:
        """One text for diffs: each file under a ``==> name <==`` header, then the users."""
        lines = [f"==> {SETTINGS_NAME} <=="]
        lines += (self.settings_text or "# (none: drkit ran on its defaults)").splitlines()
        for name, text in self.files:
            lines += ["", f"==> {name} <==", *text.splitlines()]
        lines += ["", "==> users <=="]
        for user in self.users:
            lines += [
                f"{user.name}:",
                f"  password_hash: {user.password_hash}",
                f"  grants: [{', '.join(user.grants)}]",
            ]
        return lines

    def flatten(self) -> dict[str, str]:
        """Every setting by path: ``drkit.yaml.repositories.nas.url``, ``users.bob.grants``."""
        out = _flat_file(SETTINGS_NAME, self.settings_text or "")
        for name, text in self.files:
            out.update(_flat_file(name, text))
        for user in self.users:
            out[f"users.{user.name}.password_hash"] = user.password_hash
            out[f"users.{user.name}.grants"] = ", ".join(user.grants)
        return out


def _canonical(doc: dict[str, object]) -> bytes:
    return json.dumps(doc, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()


def _flat_file(name: str, text: str) -> dict[str, str]:
    fmt = detect_format(name)
    prefix = name
    if fmt is not None:
        try:
            flat = parse_flat(text, fmt, name)
            return {f"{prefix}.{k}" if k else prefix: v for k, v in flat.items()}
        except StructureError:
            pass  # a broken file is still shown, line by line
    return {f"{prefix}[{i + 1}]": line for i, line in enumerate(text.splitlines())}


# -- where the pieces live ----------------------------------------------------------------
def target_of(name: str, runbooks: Path) -> Path:
    """Where a file named ``name`` in a version is written back."""
    if name.startswith(RUNBOOKS_PREFIX):
        return runbooks / name[len(RUNBOOKS_PREFIX) :]
    return Path(name)
