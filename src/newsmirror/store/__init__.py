"""The SQLite store: every query (the schema and its versions are in ``migrations``).

The store joins the two halves of the pipeline: ``sync`` writes articles into
it and ``build`` reads them out. It runs in WAL mode and every write is one
transaction, so a run killed at any moment leaves it consistent and the next
run carries on from there.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NoReturn

from newsmirror.errors import StoreError
from newsmirror.store.articles import GONE_CHECKS, ArticleQueries
from newsmirror.store.connection import (
    Connection,
    PostgresConnection,
    SqliteConnection,
    is_postgres,
    postgres_ddl,
    redact,
)
from newsmirror.store.feeds import FeedQueries
from newsmirror.store.hosts import HostSlotQueries
from newsmirror.store.images import ImageQueries
from newsmirror.store.migrations import LATEST, MIGRATIONS
from newsmirror.store.outputs import OutputRecords
from newsmirror.store.records import (
    ArticleHead,
    BuiltFile,
    GoneCheck,
    HotArticle,
    Recheck,
    Revision,
    SaveResult,
    SchemaUpgrade,
)
from newsmirror.store.rows import one_line, postgres_errors, write_hint
from newsmirror.store.run_lock import RUN_LOCK, RunLockBusy, cluster_run_lock
from newsmirror.store.runs import RunLog
from newsmirror.store.views import ViewCounts

__all__ = [
    "GONE_CHECKS",
    "RUN_LOCK",
    "ArticleHead",
    "BuiltFile",
    "GoneCheck",
    "HotArticle",
    "Recheck",
    "Revision",
    "RunLockBusy",
    "SaveResult",
    "SchemaUpgrade",
    "Store",
    "StoreError",
    "cluster_run_lock",
]

# Advisory lock keys (PostgreSQL), one per purpose: any constant unlikely to clash with another application's.
_SCHEMA_LOCK = 0x6E6D0001


class Store(ArticleQueries, FeedQueries, HostSlotQueries, RunLog, ViewCounts, OutputRecords, ImageQueries):
    """One connection to the store: a SQLite file, or a PostgreSQL database (a ``postgresql://`` URL).

    Not shared between threads.
    """

    def __init__(self, location: Path | str, *, readonly: bool = False) -> None:
        self.path: Path | str = location if is_postgres(location) else Path(location)
        self.where = redact(self.path) if isinstance(self.path, str) else str(self.path)
        # Set when this open upgraded an existing store: the one line to tell the user.
        self.upgraded: SchemaUpgrade | None = None
        self._host_slots = {}
        self._db: Connection
        try:
            if isinstance(self.path, str):
                self._db = PostgresConnection(self.path, readonly=readonly)
            else:
                if readonly and not self.path.exists():
                    raise StoreError(f"{self.path}: no store yet; run 'newsmirror sync' first")
                self._db = SqliteConnection(self.path, readonly=readonly)
        except ImportError as exc:
            raise StoreError(f"{self.where}: {exc}") from None
        except Exception as exc:
            self._raise_unopened(exc)
        try:
            if readonly:
                version = self._version()
                if version == 0 and self._db.dialect == "postgresql":
                    raise StoreError(f"{self.where}: no store yet; run 'newsmirror sync' first")
                self._check_version(version, readonly=True)
            else:
                self._migrate()
        except Exception as exc:
            self._db.close()
            self._raise_unopened(exc)

    def _raise_unopened(self, exc: Exception) -> NoReturn:
        # A database that cannot be opened (either kind) is one line; anything else is a bug and goes on.
        if not isinstance(exc, (sqlite3.DatabaseError, *postgres_errors())):
            raise exc
        raise StoreError(f"{self.where}: cannot open the store: {one_line(exc)}") from None

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def _version(self) -> int:
        if self._db.dialect == "sqlite":
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])
        # PostgreSQL has no user_version: a one-row table holds it (none yet: an empty database).
        if self._db.execute("SELECT to_regclass('schema_version')").fetchone()[0] is None:
            return 0
        row = self._db.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def _check_version(self, version: int, *, readonly: bool = False) -> None:
        if version > LATEST:
            raise StoreError(
                f"{self.where}: this store has schema version {version}, but this newsmirror knows versions up to "
                f"{LATEST}: it was written by a newer release. Upgrade newsmirror (pip install -U newsmirror), "
                "or set mirror.store to another file; a store is never downgraded"
            )
        if readonly and version < LATEST:
            raise StoreError(
                f"{self.where}: this store has schema version {version} and needs upgrading to {LATEST}; "
                "run 'newsmirror sync' once to upgrade it in place"
            )

    def _migrate(self) -> None:
        """Bring the store to the latest schema: every pending migration, in order, in one transaction."""
        if self._version() == LATEST:
            return  # the common case costs one read of the header, no write lock
        self._check_version(self._version())
        postgres = self._db.dialect == "postgresql"
        try:
            if postgres:
                # Workers starting at once wait here for the first one's upgrade. Taken before the
                # transaction, so that the transaction then sees the tables that upgrade made.
                self._db.execute("SELECT pg_advisory_lock(?)", (_SCHEMA_LOCK,))
            with self._db.transaction():
                version = self._version()  # another process may have upgraded it while we waited for the lock
                self._check_version(version)
                if postgres:
                    existed = version > 0
                else:
                    existed = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone()
                for migration in MIGRATIONS:
                    if migration.version > version:
                        steps = migration.sqlite
                        if postgres:
                            steps = migration.postgres or tuple(postgres_ddl(step) for step in migration.sqlite)
                        for step in steps:
                            self._db.execute(step)
                if postgres:
                    self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
                    self._db.execute("DELETE FROM schema_version")
                    self._db.execute("INSERT INTO schema_version (version) VALUES (?)", (LATEST,))
                else:
                    # user_version is part of the database header, so it commits (or rolls back) with the steps.
                    self._db.execute(f"PRAGMA user_version = {LATEST}")
        except self._db.errors as exc:
            raise StoreError(
                f"{self.where}: cannot upgrade the store from schema version {self._version()} to {LATEST}: "
                f"{one_line(exc)}; the store is unchanged{write_hint(exc, self._db.dialect)}"
            ) from None
        finally:
            if postgres:
                self._db.execute("SELECT pg_advisory_unlock(?)", (_SCHEMA_LOCK,))
        if existed and version < LATEST:
            self.upgraded = SchemaUpgrade(self.path if isinstance(self.path, Path) else self.where, version, LATEST)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
