"""What the store remembers of output trees: the build manifest and the hashes behind SHA256SUMS."""

from __future__ import annotations

from collections.abc import Iterable

from newsmirror.store.base import StoreBase
from newsmirror.store.records import BuiltFile


class OutputRecords(StoreBase):
    """The files each build wrote, and the hashed state of each output tree."""

    def build_manifest(self, output: str) -> dict[str, BuiltFile]:
        """path → BuiltFile of what the last build wrote into the output tree ``output``."""
        rows = self._db.execute(
            "SELECT path, inputs, size, mtime_ns, digest FROM build_outputs WHERE output = ?", (output,)
        )
        return {r["path"]: BuiltFile(r["inputs"], r["size"], r["mtime_ns"], r["digest"]) for r in rows}

    def update_build_manifest(self, output: str, changed: dict[str, BuiltFile], removed: Iterable[str]) -> None:
        """Record files a build wrote (or found current) and forget those it removed, in one transaction."""
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM build_outputs WHERE output = ? AND path = ?", [(output, path) for path in removed]
            )
            db.executemany(
                "INSERT INTO build_outputs (output, path, inputs, size, mtime_ns, digest) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (output, path) DO UPDATE SET inputs = excluded.inputs, size = excluded.size,"
                " mtime_ns = excluded.mtime_ns, digest = excluded.digest",
                [(output, path, f.inputs, f.size, f.mtime_ns, f.digest) for path, f in changed.items()],
            )

    def tree_hashes(self, output: str) -> dict[str, tuple[int, int, str]]:
        """path → (size, mtime_ns, SHA-256) of the files of an output tree as last hashed for SHA256SUMS."""
        rows = self._db.execute("SELECT path, size, mtime_ns, sha256 FROM tree_hashes WHERE output = ?", (output,))
        return {r["path"]: (r["size"], r["mtime_ns"], r["sha256"]) for r in rows}

    def update_tree_hashes(self, output: str, changed: dict[str, tuple[int, int, str]], removed: Iterable[str]) -> None:
        """Remember new file hashes and forget files that left the tree, in one transaction."""
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM tree_hashes WHERE output = ? AND path = ?", [(output, path) for path in removed]
            )
            db.executemany(
                "INSERT INTO tree_hashes (output, path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (output, path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,"
                " sha256 = excluded.sha256",
                [(output, path, *entry) for path, entry in changed.items()],
            )
