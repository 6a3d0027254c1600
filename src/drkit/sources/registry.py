"""The source drivers drkit knows, and turning settings or a URL into a Source.

``type: postgres`` under a policy's ``sources:`` picks the driver whose
module declares ``PLUGIN = Plugin("postgres", ...)``. :data:`SOURCES` is the
one list: the settings union (``drkit.settings.policies`` names this
registry), the URL schemes, the lookup by type and the "unknown type" error
are derived from it. A new driver is one module with its ``PLUGIN``, added
to :data:`SOURCES`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from pydantic import ValidationError

from drkit.errors import UsageError
from drkit.plugins import PluginSettings, Registry
from drkit.sources import files, mariadb, postgres_logical, postgres_physical, redis, sqlite
from drkit.sources.base import META_TYPE, Source, SourceConfig
from drkit.sources.sqlite import SqliteConfig

if TYPE_CHECKING:
    from drkit.repository.snapshot import Snapshot

SOURCES = Registry[SourceConfig, Source[Any]](
    "source",
    [
        files.PLUGIN,
        mariadb.PLUGIN,
        postgres_logical.PLUGIN,
        postgres_physical.PLUGIN,
        redis.PLUGIN,
        sqlite.PLUGIN,
    ],
)

KNOWN = SOURCES.known()

_SQLITE_MAGIC = b"SQLite format 3\0"

PolicySource: TypeAlias = str | PluginSettings
"""One entry of a policy's ``sources:`` as settings hold it: a path, or a driver's config."""


def policy_paths(sources: Sequence[PolicySource]) -> list[str]:
    """The plain paths of a policy's sources (backed up together into one file snapshot)."""
    return [s for s in sources if isinstance(s, str)]


def policy_sources(sources: Sequence[PolicySource]) -> list[SourceConfig]:
    """The typed sources of a policy (each backed up into snapshots of its own)."""
    return [SOURCES.settings_of(s) for s in sources if not isinstance(s, str)]


def source_labels(sources: Sequence[PolicySource]) -> list[str]:
    """One name per source as its snapshots record it: the path, or e.g. ``postgres://h:p/db``."""
    labels = []
    for source in sources:
        if isinstance(source, str):
            labels.append(os.path.normpath(os.path.abspath(source)))
        else:
            labels.append(source_for(SOURCES.settings_of(source)).paths[0])
    return labels


def source_for(config: SourceConfig) -> Source[Any]:
    """The driver of ``config``, ready to back it up."""
    return SOURCES.build(config)


def driver_for_snapshot(snapshot: Snapshot) -> type[Source[Any]]:
    """The driver that restores ``snapshot`` (file snapshots carry no source type)."""
    kind = snapshot.meta.get(META_TYPE, "files")
    if kind not in SOURCES:
        raise UsageError(
            f"snapshot {snapshot.short_id} was made by a {kind!r} source, unknown to this drkit",
            hint=f"known source types: {KNOWN}; a newer drkit may know it",
        )
    # every source PLUGIN's builder is its Source class, whose restore is a class method
    return cast("type[Source[Any]]", SOURCES.get(kind).build)


def target_type(target: str) -> str | None:
    """The source type a restore target's URL implies (``postgresql://...`` -> postgres)."""
    scheme = target.split(":", 1)[0].lower() if ":" in target else ""
    plugin = SOURCES.by_scheme(scheme) if scheme else None
    return None if plugin is None else plugin.type


def parse_source(text: str) -> SourceConfig:
    """A source from the command line: a URL, a SQLite file, or a YAML mapping.

    ``postgresql://u@h/db``, ``mariadb://u@h/db``, ``sqlite:///path.db``,
    ``redis://h:6379``, or ``{type: postgres, dsn: ...}`` as in drkit.yaml.
    """
    text = text.strip()
    if text.startswith("{"):
        return _from_mapping(text)
    scheme = text.split(":", 1)[0].lower() if "://" in text or text.startswith("sqlite:") else ""
    plugin = SOURCES.by_scheme(scheme) if scheme else None
    if plugin is not None:
        config: type[SourceConfig] = plugin.settings
        return _validated(lambda: config.from_url(text), text)
    if _is_sqlite_file(Path(text)):
        return SqliteConfig(path=Path(text))
    raise UsageError(
        f"{text!r} is not a source drkit knows",
        hint="give postgresql://USER@HOST/DB, mariadb://USER@HOST/DB, sqlite:///PATH, "
        "redis://HOST:PORT, or a mapping like '{type: postgres, dsn: ...}'",
    )


def _from_mapping(text: str) -> SourceConfig:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        doc = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise UsageError(f"the source mapping is not valid YAML: {exc}") from None
    return _validated(lambda: SOURCES.parse(doc), text)


def _validated(make: Any, text: str) -> SourceConfig:
    try:
        config: SourceConfig = make()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'source'}: {e['msg']}" for e in exc.errors()
        )
        raise UsageError(
            f"invalid source {text!r}: {problems}", hint=f"known types: {KNOWN}"
        ) from None
    return config


def _is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False
