"""What every group of the store's queries stands on: the connection and its write transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newsmirror.errors import StoreError
from newsmirror.store.connection import Connection
from newsmirror.store.rows import one_line, write_hint


class StoreBase:
    """The connection the query groups share; ``Store`` opens it."""

    path: Path | str
    where: str
    _db: Connection

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One write transaction; a database failure (disk full, read-only file,
        corruption, a lost server) rolls it back and becomes a one-line ``StoreError``."""
        try:
            with self._db.transaction():
                yield self._db
        except self._db.errors as exc:
            hint = write_hint(exc, self._db.dialect)
            raise StoreError(f"{self.where}: cannot write to the store: {one_line(exc)}{hint}") from None
