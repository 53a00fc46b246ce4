"""One database connection, SQLite or PostgreSQL, behind the few calls the store makes.

The store's queries are written once, with ``?`` placeholders, in SQL both
databases run; what differs (placeholders, row locks, advisory locks, errors,
how a transaction starts) is here. Rows answer by index and by column name
on both.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

from newsmirror.errors import StoreError
from newsmirror.store.rows import one_line

Dialect = Literal["sqlite", "postgresql"]


class Rows(Protocol):
    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


_QUERY_PASSWORD = re.compile(r"(?i)(^|&)(password=)[^&]*")


def redact(url: str) -> str:
    """A PostgreSQL URL without its password (given before the host or as ``?password=``), for messages and logs."""
    parts = urlsplit(url)
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts._replace(query=_QUERY_PASSWORD.sub(r"\1\2***", parts.query)))


class SqliteConnection:
    dialect: Dialect = "sqlite"

    @staticmethod
    def skip_locked(table: str) -> str:
        """Appended to a SELECT whose rows of ``table`` (a name or alias) a transaction claims:
        SQLite has one writer at a time anyway."""
        return ""

    def __init__(self, path: Path, *, readonly: bool) -> None:
        self.errors: tuple[type[Exception], ...] = (sqlite3.Error,)
        self.where = str(path)
        if readonly:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA busy_timeout=30000")

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return self._db.execute(sql, params)

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE: take the write lock now, so a read-then-write cannot be overtaken.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()


class _PgRow(tuple):
    """A row that answers ``row[0]`` and ``row["name"]``, as ``sqlite3.Row`` does."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


def _pg_rows(cursor: Any) -> Any:
    description = cursor.description
    if description is None:
        return tuple
    row_type = type("Row", (_PgRow,), {"names": {column.name: i for i, column in enumerate(description)}})
    return lambda values: row_type(values)


_PLACEHOLDER = re.compile(r"\?")


class PostgresConnection:
    dialect: Dialect = "postgresql"

    @staticmethod
    def skip_locked(table: str) -> str:
        """Rows another transaction holds are passed over, the rest are held until this one ends."""
        return f" FOR UPDATE OF {table} SKIP LOCKED"

    def __init__(self, url: str, *, readonly: bool = False, application_name: str = "newsmirror") -> None:
        try:
            import psycopg
        except ImportError:
            raise ImportError("a postgresql:// store needs psycopg: pip install 'newsmirror[postgresql]'") from None
        self._psycopg = psycopg
        self.errors = (psycopg.Error,)
        self.where = redact(url)
        self._db = psycopg.connect(
            url, autocommit=True, row_factory=_pg_rows, connect_timeout=10, application_name=application_name
        )
        if readonly:
            # The server itself refuses every write of this session, as SQLite's mode=ro does.
            self._db.execute("SET default_transaction_read_only = on")
        self._sql: dict[str, str] = {}
        self._writing = False

    def _translate(self, sql: str) -> str:
        translated = self._sql.get(sql)
        if translated is None:
            translated = self._sql[sql] = _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))
        return translated

    @property
    def in_transaction(self) -> bool:
        return self._db.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        try:
            return self._db.execute(self._translate(sql), params)  # type: ignore[arg-type, no-any-return]
        except self._psycopg.OperationalError as exc:
            if self._writing:
                raise  # the write transaction says so, and rolls back
            # A read on a connection the server dropped (a restart, the network): one line, not a traceback.
            raise StoreError(f"{self.where}: cannot read the store: {one_line(exc)}") from None

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(self._translate(sql), params)  # type: ignore[arg-type]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._writing = True
        try:
            with self._db.transaction():
                yield
        finally:
            self._writing = False

    def close(self) -> None:
        self._db.close()


Connection = SqliteConnection | PostgresConnection


def is_postgres(location: Path | str) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


_PG_TYPES = (
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\)\s*WITHOUT ROWID"), ")"),
)


def postgres_ddl(statement: str) -> str:
    """A schema statement of the store, written for SQLite, in PostgreSQL's words.

    The store's schema uses a small common subset: TEXT, INTEGER (64-bit in
    SQLite, so BIGINT), BLOB, AUTOINCREMENT keys and WITHOUT ROWID tables.
    """
    for pattern, replacement in _PG_TYPES:
        statement = pattern.sub(replacement, statement)
    return statement
