"""What the store remembers of output trees: the build manifest and the hashes behind SHA256SUMS."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from newsmirror.store.base import StoreBase
from newsmirror.store.records import BuiltFile

# The tables that hold one row per file of an output tree, keyed by (output, path), and their other columns.
_FILE_TABLES = {
    "build_outputs": ("inputs", "size", "mtime_ns", "digest"),
    "tree_hashes": ("size", "mtime_ns", "sha256"),
}


class OutputRecords(StoreBase):
    """The files each build wrote, and the hashed state of each output tree."""

    def build_manifest(self, output: str) -> dict[str, BuiltFile]:
        """path → BuiltFile of what the last build wrote into the output tree ``output``."""
        rows = self._files("build_outputs", output)
        return {path: BuiltFile(inputs, size, mtime_ns, digest) for path, inputs, size, mtime_ns, digest in rows}

    def update_build_manifest(self, output: str, changed: dict[str, BuiltFile], removed: Iterable[str]) -> None:
        """Record files a build wrote (or found current) and forget those it removed, in one transaction."""
        files = {path: (f.inputs, f.size, f.mtime_ns, f.digest) for path, f in changed.items()}
        self._update_files("build_outputs", output, files, removed)

    def tree_hashes(self, output: str) -> dict[str, tuple[int, int, str]]:
        """path → (size, mtime_ns, SHA-256) of the files of an output tree as last hashed for SHA256SUMS."""
        return {path: (size, mtime_ns, sha256) for path, size, mtime_ns, sha256 in self._files("tree_hashes", output)}

    def update_tree_hashes(self, output: str, changed: dict[str, tuple[int, int, str]], removed: Iterable[str]) -> None:
        """Remember new file hashes and forget files that left the tree, in one transaction."""
        self._update_files("tree_hashes", output, changed, removed)

    def _files(self, table: str, output: str) -> Iterable[Any]:
        """The rows of an output tree: path, then the table's other columns (a no-change build reads
        every one, so they are unpacked by the caller, not copied here)."""
        return self._db.execute(
            f"SELECT path, {', '.join(_FILE_TABLES[table])} FROM {table} WHERE output = ?", (output,)
        )

    def _update_files(
        self, table: str, output: str, changed: Mapping[str, Sequence[object]], removed: Iterable[str]
    ) -> None:
        columns = _FILE_TABLES[table]
        marks = ", ".join("?" * (len(columns) + 2))
        updates = ", ".join(f"{column} = excluded.{column}" for column in columns)
        with self._transaction() as db:
            db.executemany(f"DELETE FROM {table} WHERE output = ? AND path = ?", [(output, path) for path in removed])
            db.executemany(
                f"INSERT INTO {table} (output, path, {', '.join(columns)}) VALUES ({marks})"
                f" ON CONFLICT (output, path) DO UPDATE SET {updates}",
                [(output, path, *values) for path, values in changed.items()],
            )
