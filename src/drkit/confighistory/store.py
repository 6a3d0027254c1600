"""The versions in the catalog: record only on change, find by id or time, read content.

Recording is a compare-and-set on the scope's head (its newest content
hash), done as the transaction's first write: SQLite then holds its write
lock and PostgreSQL the head row's lock until the version row is in, so two
processes that see the same change store it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from drkit.catalog import Catalog
from drkit.catalog.types import utcnow
from drkit.confighistory.cipher import ContentCipher, create_key, load_key, missing_key_error
from drkit.confighistory.errors import VersionNotFound
from drkit.confighistory.model import ConfigVersion, Scope
from drkit.confighistory.tables import ConfigHeadRow, ConfigVersionRow


@dataclass(frozen=True)
class NewVersion:
    """Content offered for recording; stored only if its hash differs from the head's."""

    scope: Scope
    content: bytes
    content_hash: str
    author: str
    message: str
    mode: int | None = None


class VersionStore:
    """The configuration history kept in one catalog."""

    def __init__(self, catalog: Catalog, home: Path) -> None:
        self.catalog = catalog
        self.home = home
        self._cipher: ContentCipher | None = None

    # -- writing -----------------------------------------------------------------
    def record(self, new: NewVersion, *, session: Session | None = None) -> ConfigVersion | None:
        """Store ``new`` as the scope's newest version unless its content is unchanged."""
        with self._session(session) as s:
            if not _claim_head(s, str(new.scope), new.content_hash):
                return None
            row = self._new_row(s, new, uuid.uuid4().hex, utcnow())
            s.add(row)
            s.flush()
            s.get_one(ConfigHeadRow, str(new.scope)).version_id = row.id
            return _version(row)

    def import_version(self, version: ConfigVersion, content: bytes) -> bool:
        """Add a version from another copy of the history (same uid); False if already here."""
        with self.catalog.session() as s:
            if s.scalar(select(ConfigVersionRow.id).where(ConfigVersionRow.uid == version.uid)):
                return False
            new = NewVersion(
                version.scope,
                content,
                version.content_hash,
                version.author,
                version.message,
                version.mode,
            )
            s.add(self._new_row(s, new, version.uid, version.created_at))
            s.flush()
            _refresh_head(s, str(version.scope))
            return True

    def delete(self, version_ids: Iterable[int]) -> int:
        """Remove versions (retention); heads are never among them."""
        ids = list(version_ids)
        if not ids:
            return 0
        with self.catalog.session() as s:
            s.execute(delete(ConfigVersionRow).where(ConfigVersionRow.id.in_(ids)))
        return len(ids)

    def _new_row(self, s: Session, new: NewVersion, uid: str, when: datetime) -> ConfigVersionRow:
        cipher = self._writing_cipher(s)
        return ConfigVersionRow(
            uid=uid,
            scope=str(new.scope),
            author=new.author,
            created_at=when,
            message=new.message,
            content_hash=new.content_hash,
            size=len(new.content),
            mode=new.mode,
            key_id=cipher.key_id,
            content=cipher.seal(new.content, uid),
        )

    # -- reading -----------------------------------------------------------------
    def get(self, version_id: int) -> ConfigVersion:
        with self.catalog.session() as s:
            row = s.get(ConfigVersionRow, version_id)
            if row is None:
                raise VersionNotFound(f"no configuration version #{version_id}")
            return _version(row)

    def content(self, version: ConfigVersion) -> bytes:
        with self.catalog.session() as s:
            row = s.get(ConfigVersionRow, version.id)
            if row is None:
                raise VersionNotFound(f"configuration version #{version.id} is gone")
            sealed, key_id = row.content, row.key_id
        return self._reading_cipher().open(sealed, version.uid, key_id)

    def at(self, scope: Scope, when: datetime) -> ConfigVersion | None:
        """The version of ``scope`` in force at ``when``: the newest made at or before it."""
        query = (
            select(ConfigVersionRow)
            .where(ConfigVersionRow.scope == str(scope), ConfigVersionRow.created_at <= when)
            .order_by(ConfigVersionRow.created_at.desc(), ConfigVersionRow.id.desc())
            .limit(1)
        )
        with self.catalog.session() as s:
            row = s.scalar(query)
            return _version(row) if row else None

    def newest(self, scope: Scope) -> ConfigVersion | None:
        with self.catalog.session() as s:
            head = s.get(ConfigHeadRow, str(scope))
            row = s.get(ConfigVersionRow, head.version_id) if head and head.version_id else None
            return _version(row) if row else None

    def head_hash(self, scope: Scope) -> str | None:
        with self.catalog.session() as s:
            head = s.get(ConfigHeadRow, str(scope))
            return head.content_hash if head else None

    def scopes(self) -> list[Scope]:
        with self.catalog.session() as s:
            return sorted(Scope.parse(name) for name in s.scalars(select(ConfigHeadRow.scope)))

    def history(
        self, scopes: Iterable[Scope] | None = None, *, limit: int | None = None
    ) -> list[ConfigVersion]:
        """Versions, newest first, of ``scopes`` (None: every scope)."""
        query = select(ConfigVersionRow).order_by(
            ConfigVersionRow.created_at.desc(), ConfigVersionRow.id.desc()
        )
        if scopes is not None:
            query = query.where(ConfigVersionRow.scope.in_([str(s) for s in scopes]))
        if limit is not None:
            query = query.limit(limit)
        with self.catalog.session() as s:
            return [_version(row) for row in s.scalars(query)]

    def uids(self) -> set[str]:
        with self.catalog.session() as s:
            return set(s.scalars(select(ConfigVersionRow.uid)))

    def count(self) -> int:
        with self.catalog.session() as s:
            return int(s.scalar(select(func.count(ConfigVersionRow.id))) or 0)

    # -- keys and sessions -------------------------------------------------------
    def _reading_cipher(self) -> ContentCipher:
        if self._cipher is None:
            self._cipher = load_key(self.home)
        if self._cipher is None:
            with self.catalog.session() as s:
                raise missing_key_error(self.home, _key_ids(s))
        return self._cipher

    def _writing_cipher(self, s: Session) -> ContentCipher:
        """The key, created on first use: but never beside versions sealed with another key."""
        if self._cipher is None:
            self._cipher = load_key(self.home)
        if self._cipher is None:
            used = _key_ids(s)
            if used:
                raise missing_key_error(self.home, used)
            self._cipher = create_key(self.home)
        return self._cipher

    @contextmanager
    def _session(self, session: Session | None) -> Iterator[Session]:
        if session is not None:
            yield session
            return
        with self.catalog.session() as s:
            yield s


def _claim_head(s: Session, scope: str, content_hash: str) -> bool:
    """Set the scope's head hash unless it already is ``content_hash``; True if it changed."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ConfigHeadRow).values(scope=scope, content_hash=content_hash)
    statement = statement.on_conflict_do_update(
        index_elements=[ConfigHeadRow.scope],
        set_={"content_hash": content_hash},
        where=ConfigHeadRow.content_hash != content_hash,
    )
    # RETURNING yields the row only when it was inserted or updated (rowcount is not
    # reliable for upserts across drivers)
    return s.execute(statement.returning(ConfigHeadRow.scope)).first() is not None


def _refresh_head(s: Session, scope: str) -> None:
    """Point the head at the scope's newest version (after an import)."""
    newest = s.scalar(
        select(ConfigVersionRow)
        .where(ConfigVersionRow.scope == scope)
        .order_by(ConfigVersionRow.created_at.desc(), ConfigVersionRow.id.desc())
        .limit(1)
    )
    if newest is None:
        return
    head = s.get(ConfigHeadRow, scope)
    if head is None:
        s.add(ConfigHeadRow(scope=scope, content_hash=newest.content_hash, version_id=newest.id))
    else:
        head.content_hash, head.version_id = newest.content_hash, newest.id


def _key_ids(s: Session) -> list[str]:
    return sorted(s.scalars(select(ConfigVersionRow.key_id).distinct()))


def _version(row: ConfigVersionRow) -> ConfigVersion:
    return ConfigVersion(
        id=row.id,
        uid=row.uid,
        scope=Scope.parse(row.scope),
        author=row.author,
        created_at=row.created_at,
        message=row.message,
        content_hash=row.content_hash,
        size=row.size,
        mode=row.mode,
    )
