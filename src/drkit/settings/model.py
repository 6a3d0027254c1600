"""Typed models of ``drkit.yaml``.

The models are frozen and reject unknown keys (``extra="forbid"``), so a typo
in the settings file is reported instead of silently ignored. Validation
problems raise :class:`pydantic.ValidationError`; :mod:`drkit.settings.loader`
turns them into one :class:`~drkit.errors.ConfigError` naming file and line.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from drkit.settings.confighistory import ConfigHistorySettings
from drkit.settings.daemon import AlertSettings, CatalogSettings, DaemonSettings
from drkit.settings.ha import HaSettings
from drkit.settings.notifiers import NotifierSettings
from drkit.settings.policies import PolicySettings
from drkit.settings.runbooks import RunbookSettings

SETTINGS_VERSION = 1
"""The only ``version`` of ``drkit.yaml`` this drkit understands."""

REPOSITORY_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
"""Repository names: lowercase letters, digits, ``_`` and ``-``; no leading ``_``/``-``."""

COMPRESSION_KEYWORDS = ("auto", "off", "max")
"""Compression settings other than an explicit ``zstd:N`` level."""

ZSTD_LEVELS = range(1, 20)
"""Valid levels ``N`` in ``zstd:N``."""


def _reject_empty_path(value: Any) -> Any:
    """Refuse an empty or blank path before pydantic turns it into ``.``."""
    if isinstance(value, str) and not value.strip():
        raise PydanticCustomError("empty_path", "path must not be empty")
    return value


def _expand_user(value: Path) -> Path:
    """Expand a leading ``~`` so ``~/secrets/pw`` means the user's home."""
    return value.expanduser()


def _check_repository_name(name: str) -> str:
    """Return ``name`` if it is a valid repository name, else raise a clear error."""
    if REPOSITORY_NAME_PATTERN.fullmatch(name) is None:
        raise PydanticCustomError(
            "repository_name",
            "invalid repository name: use lowercase letters, digits, '_' and '-', "
            "starting with a letter or digit",
        )
    return name


def _check_not_blank(value: str) -> str:
    """Refuse strings that are empty or only whitespace."""
    if not value.strip():
        raise PydanticCustomError("blank_string", "must not be empty")
    return value


ConfigPath = Annotated[Path, BeforeValidator(_reject_empty_path), AfterValidator(_expand_user)]
"""A filesystem path from the settings file: non-empty, ``~`` expanded."""

NonBlankStr = Annotated[str, AfterValidator(_check_not_blank)]
"""A string that is not empty and not only whitespace."""

RepositoryName = Annotated[str, AfterValidator(_check_repository_name)]
"""A repository name matching ``^[a-z0-9][a-z0-9_-]*$``."""


class Media(StrEnum):
    """The kind of medium a repository lives on; used to reason about 3-2-1 coverage."""

    DISK = "disk"
    OBJECT = "object"
    TAPE = "tape"
    OPTICAL = "optical"
    CLOUD = "cloud"


class _Frozen(BaseModel):
    """Common configuration: immutable, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RepositorySettings(_Frozen):
    """One named backup repository: where it is and how to unlock it."""

    url: NonBlankStr = Field(
        description="Location of the repository: a local path, file:///path, "
        "or (later) s3://... / sftp://...",
    )
    password_file: ConfigPath | None = Field(
        default=None,
        description="File whose first line is the repository password.",
    )
    password_command: NonBlankStr | None = Field(
        default=None,
        description="Shell command printing the repository password; "
        "mutually exclusive with password_file.",
    )
    media: Media = Field(
        default=Media.DISK,
        description="Kind of medium the repository is stored on.",
    )
    site: NonBlankStr = Field(
        default="local",
        description="Name of the physical site holding the repository (for off-site checks).",
    )
    description: str = Field(default="", description="Free text shown in listings.")

    @field_validator("password_command")
    @classmethod
    def _exclusive_password_sources(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Refuse ``password_command`` when ``password_file`` is set as well."""
        if value is not None and info.data.get("password_file") is not None:
            raise PydanticCustomError(
                "password_conflict",
                "password_file and password_command are mutually exclusive; set only one",
            )
        return value


def _check_compression(value: str) -> str:
    """Accept ``auto``, ``off``, ``max`` or ``zstd:N`` with N in 1..19."""
    if value in COMPRESSION_KEYWORDS:
        return value
    prefix, sep, level = value.partition(":")
    if prefix == "zstd" and sep:
        if level.isascii() and level.isdigit() and int(level) in ZSTD_LEVELS:
            return value
        raise PydanticCustomError(
            "compression_level",
            "zstd level must be a whole number from {low} to {high}, as in 'zstd:3'",
            {"low": ZSTD_LEVELS.start, "high": ZSTD_LEVELS.stop - 1},
        )
    raise PydanticCustomError(
        "compression",
        "compression must be 'auto', 'off', 'max' or 'zstd:N' with N from {low} to {high}",
        {"low": ZSTD_LEVELS.start, "high": ZSTD_LEVELS.stop - 1},
    )


class BackupSettings(_Frozen):
    """Defaults for ``drkit backup``."""

    excludes: list[str] = Field(
        default_factory=list,
        description="Glob patterns of paths never to back up.",
    )
    compression: Annotated[str, AfterValidator(_check_compression)] = Field(
        default="auto",
        description="'auto', 'off', 'max' or 'zstd:N' (N from 1 to 19).",
    )
    pack_size_mib: int = Field(
        default=16,
        ge=4,
        le=128,
        description="Target size of pack files in MiB (4 to 128).",
    )
    one_file_system: bool = Field(
        default=False,
        description="Stay on the file system of each backup root; do not cross mount points.",
    )


class Settings(_Frozen):
    """The whole of ``drkit.yaml``; an empty file gives all defaults."""

    version: int = Field(
        default=SETTINGS_VERSION,
        description="Version of the settings file format.",
    )
    home: ConfigPath | None = Field(
        default=None,
        description="drkit's state directory; None means DRKIT_HOME or ~/.local/share/drkit.",
    )
    repositories: dict[RepositoryName, RepositorySettings] = Field(
        default_factory=dict,
        description="Backup repositories by name.",
    )
    backup: BackupSettings = Field(
        default_factory=BackupSettings,
        description="Defaults for backups.",
    )
    policies: dict[RepositoryName, PolicySettings] = Field(
        default_factory=dict,
        description="Backup policies by name: sources, repositories, schedule, objectives.",
    )
    catalog: CatalogSettings = Field(
        default_factory=CatalogSettings, description="Where drkit keeps its state (runs, alerts)."
    )
    daemon: DaemonSettings = Field(
        default_factory=DaemonSettings, description="How `drkit serve` runs."
    )
    notifiers: dict[RepositoryName, NotifierSettings] = Field(
        default_factory=dict,
        description="Notification backends by name: webhook, slack, email, pagerduty.",
    )
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="Alert delivery.")
    runbooks: RunbookSettings = Field(
        default_factory=RunbookSettings, description="Runbook directory and scheduled drills."
    )
    config_history: ConfigHistorySettings = Field(
        default_factory=ConfigHistorySettings,
        description="Configuration history: file sources, hosts, schedule, retention.",
    )
    ha: HaSettings | None = Field(default=None, description="High availability inventory.")

    @field_validator("alerts")
    @classmethod
    def _known_notifiers(cls, value: AlertSettings, info: ValidationInfo) -> AlertSettings:
        """``alerts.notifiers`` may only name notifiers defined under ``notifiers``."""
        known = set(info.data.get("notifiers", {}))
        for name in value.notifiers or []:
            if name not in known:
                raise PydanticCustomError(
                    "unknown_notifier",
                    "alerts.notifiers names '{name}', which is not defined under 'notifiers' "
                    "(defined: {known})",
                    {"name": name, "known": ", ".join(sorted(known)) or "none"},
                )
        return value

    @field_validator("daemon")
    @classmethod
    def _shared_catalog(cls, value: DaemonSettings, info: ValidationInfo) -> DaemonSettings:
        """Two serves need one catalog both reach and that claims job slots transactionally."""
        catalog = info.data.get("catalog")
        url = catalog.url if isinstance(catalog, CatalogSettings) else None
        if value.control_plane is not None and not (url or "").startswith("postgresql"):
            raise PydanticCustomError(
                "control_plane_catalog",
                "daemon.control_plane runs several serves over one catalog, and the catalog "
                "is {what}: a file on one machine, which the serve in the other site cannot "
                "reach and which would be lost with its site (hint: set catalog.url to "
                "postgresql+psycopg://USER@HOST/DB, a PostgreSQL both sites reach, or remove "
                "daemon.control_plane to run one serve)",
                {"what": f"'{url}'" if url else "the default SQLite file"},
            )
        return value

    @field_validator("policies")
    @classmethod
    def _known_repositories(
        cls, value: dict[str, PolicySettings], info: ValidationInfo
    ) -> dict[str, PolicySettings]:
        """A policy may only name repositories defined under ``repositories``."""
        known = set(info.data.get("repositories", {}))
        for name, policy in value.items():
            named = set(policy.repositories) | set(policy.repository_retention)
            named |= {c.from_ for c in policy.copies} | {r for c in policy.copies for r in c.to}
            for repo in sorted(named - known):
                raise PydanticCustomError(
                    "unknown_repository",
                    "policy '{policy}' names repository '{repo}', which is not defined "
                    "under 'repositories' (defined: {known})",
                    {"policy": name, "repo": repo, "known": ", ".join(sorted(known)) or "none"},
                )
        return value

    @field_validator("version")
    @classmethod
    def _supported_version(cls, value: int) -> int:
        """Refuse settings written for another format version."""
        if value != SETTINGS_VERSION:
            raise PydanticCustomError(
                "settings_version",
                "unsupported settings version {version}; this drkit reads version {supported}",
                {"version": value, "supported": SETTINGS_VERSION},
            )
        return value
