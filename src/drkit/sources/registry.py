"""The explicit list of source drivers, and turning settings or a URL into a Source.

``type: postgres`` under a policy's ``sources:`` picks the driver whose
config model is tagged ``postgres`` in :data:`SourceSpec`; an unknown type
is an error listing the known ones. A new driver is added in three places
here: :data:`DRIVERS`, :data:`SourceSpec` and, if it has URLs,
:data:`URL_SCHEMES`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter, ValidationError

from drkit.errors import UsageError
from drkit.repository.snapshot import Snapshot
from drkit.sources.base import META_TYPE, Source, SourceConfig
from drkit.sources.files import FilesConfig, FilesSource
from drkit.sources.mariadb import MariadbConfig, MariadbSource
from drkit.sources.postgres_logical import PostgresConfig, PostgresLogicalSource
from drkit.sources.postgres_physical import PostgresPhysicalConfig, PostgresPhysicalSource
from drkit.sources.redis import RedisConfig, RedisSource
from drkit.sources.sqlite import SqliteConfig, SqliteSource

DRIVERS: dict[str, type[Source[Any]]] = {
    "files": FilesSource,
    "mariadb": MariadbSource,
    "postgres": PostgresLogicalSource,
    "postgres-physical": PostgresPhysicalSource,
    "redis": RedisSource,
    "sqlite": SqliteSource,
}

URL_SCHEMES: dict[str, type[PostgresConfig | MariadbConfig | SqliteConfig | RedisConfig]] = {
    "postgres": PostgresConfig,
    "postgresql": PostgresConfig,
    "mariadb": MariadbConfig,
    "mysql": MariadbConfig,
    "sqlite": SqliteConfig,
    "redis": RedisConfig,
    "rediss": RedisConfig,
}

KNOWN = ", ".join(sorted(DRIVERS))
_SQLITE_MAGIC = b"SQLite format 3\0"


def _type_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("type")
    return getattr(value, "type", None)


SourceSpec = Annotated[
    Annotated[FilesConfig, Tag("files")]
    | Annotated[MariadbConfig, Tag("mariadb")]
    | Annotated[PostgresConfig, Tag("postgres")]
    | Annotated[PostgresPhysicalConfig, Tag("postgres-physical")]
    | Annotated[RedisConfig, Tag("redis")]
    | Annotated[SqliteConfig, Tag("sqlite")],
    Discriminator(
        _type_of,
        custom_error_type="source_type",
        custom_error_message=f"a source needs `type:`, one of {KNOWN}",
    ),
]
"""A source's settings: the config model of the driver its ``type`` names."""

_SPEC = TypeAdapter(SourceSpec)


def _entry_kind(value: Any) -> str | None:
    return "path" if isinstance(value, str) else _type_of(value)


PolicySource = Annotated[
    Annotated[str, Tag("path")]
    | Annotated[FilesConfig, Tag("files")]
    | Annotated[MariadbConfig, Tag("mariadb")]
    | Annotated[PostgresConfig, Tag("postgres")]
    | Annotated[PostgresPhysicalConfig, Tag("postgres-physical")]
    | Annotated[RedisConfig, Tag("redis")]
    | Annotated[SqliteConfig, Tag("sqlite")],
    Discriminator(
        _entry_kind,
        custom_error_type="source_type",
        custom_error_message=f"a source is a path, or a mapping with `type:` one of {KNOWN}",
    ),
]
"""One entry of a policy's ``sources:``: a path string, or a typed source mapping.

The same members as :data:`SourceSpec` plus ``str``, spelled out flat so an
error's location reads ``sources[1].postgres.dsn``.
"""


def policy_paths(sources: Sequence[str | SourceConfig]) -> list[str]:
    """The plain paths of a policy's sources (backed up together into one file snapshot)."""
    return [s for s in sources if isinstance(s, str)]


def policy_sources(sources: Sequence[str | SourceConfig]) -> list[SourceConfig]:
    """The typed sources of a policy (each backed up into snapshots of its own)."""
    return [s for s in sources if not isinstance(s, str)]


def source_labels(sources: Sequence[str | SourceConfig]) -> list[str]:
    """One name per source as its snapshots record it: the path, or e.g. ``postgres://h:p/db``."""
    labels = []
    for source in sources:
        if isinstance(source, str):
            labels.append(os.path.normpath(os.path.abspath(source)))
        else:
            labels.append(source_for(source).paths[0])
    return labels


def source_for(config: SourceConfig) -> Source[Any]:
    """The driver of ``config``, ready to back it up."""
    return DRIVERS[config.type](config)


def driver_for_snapshot(snapshot: Snapshot) -> type[Source[Any]]:
    """The driver that restores ``snapshot`` (file snapshots carry no source type)."""
    kind = snapshot.meta.get(META_TYPE, "files")
    driver = DRIVERS.get(kind)
    if driver is None:
        raise UsageError(
            f"snapshot {snapshot.short_id} was made by a {kind!r} source, unknown to this drkit",
            hint=f"known source types: {KNOWN}; a newer drkit may know it",
        )
    return driver


def target_type(target: str) -> str | None:
    """The source type a restore target's URL implies (``postgresql://...`` -> postgres)."""
    scheme = target.split(":", 1)[0].lower() if ":" in target else ""
    config = URL_SCHEMES.get(scheme)
    return None if config is None else str(config.model_fields["type"].default)


def parse_source(text: str) -> SourceConfig:
    """A source from the command line: a URL, a SQLite file, or a YAML mapping.

    ``postgresql://u@h/db``, ``mariadb://u@h/db``, ``sqlite:///path.db``,
    ``redis://h:6379``, or ``{type: postgres, dsn: ...}`` as in drkit.yaml.
    """
    text = text.strip()
    if text.startswith("{"):
        return _from_mapping(text)
    scheme = text.split(":", 1)[0].lower() if "://" in text or text.startswith("sqlite:") else ""
    if scheme in URL_SCHEMES:
        return _validated(lambda: URL_SCHEMES[scheme].from_url(text), text)
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
    return _validated(lambda: _SPEC.validate_python(doc), text)


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
