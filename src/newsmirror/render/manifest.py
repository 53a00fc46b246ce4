"""SHA256SUMS: the SHA-256 of every file of the published tree, and its signature.

The manifest is in ``sha256sum`` format (``<hex>  <path>``, sorted by path) and
covers every file of the tree but ``.git``, itself and its signature: what a
clone of the mirror holds. A file's hash is taken again only when its size or
mtime changed (the store remembers the rest), so a build of an unchanged tree
reads nothing and writes nothing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from newsmirror.render.files import scan_tree
from newsmirror.store import Store

_CHUNK = 1 << 20


def published_files(root: Path) -> dict[str, os.stat_result]:
    """Relative path → stat of every regular file of the tree that a clone holds (no symlinks followed).
    One stat per file (scandir's), as a no-change build walks every file of the tree."""
    return scan_tree(root).files


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_state(files: dict[str, os.stat_result]) -> str:
    """A fingerprint of every file's path, size and mtime: all SHA256SUMS is made from, since a
    file's hash is taken again only when its size or mtime changed."""
    lines = "".join(f"{path}\0{files[path].st_size}\0{files[path].st_mtime_ns}\n" for path in sorted(files))
    return hashlib.sha1(lines.encode("utf-8", "surrogateescape")).hexdigest()


def manifest_text(hashes: dict[str, str]) -> str:
    """``sha256sum -c`` input, sorted by path (bytewise, as ``LC_ALL=C sort`` sorts)."""
    return "".join(f"{hashes[path]}  {path}\n" for path in sorted(hashes, key=lambda p: p.encode()))


def parse_manifest(text: str) -> dict[str, str]:
    """path → hex SHA-256 of a SHA256SUMS file; a malformed line raises ValueError naming it."""
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64 or not path or path.startswith("/") or ".." in path.split("/"):
            raise ValueError(f"SHA256SUMS line {number} is not '<sha256>  <path>'")
        out[path] = digest.lower()
    return out


@dataclass(slots=True)
class TreeHashes:
    """The tree's file hashes, taken again only for files whose size or mtime changed."""

    store: Store
    root: Path

    def compute(
        self, files: dict[str, os.stat_result] | None = None, fresh: dict[str, tuple[int, int, str]] | None = None
    ) -> dict[str, str]:
        """path → SHA-256 of every file; ``files``: the tree's files and their stats when the caller
        knows them already (a build that walked the tree and kept track of what it wrote and removed);
        ``fresh``: path → (size, mtime, SHA-256) of files the caller hashed as it wrote them."""
        output = str(self.root)
        known = self.store.tree_hashes(output)
        if files is None:
            files = published_files(self.root)
        hashes: dict[str, str] = {}
        changed: dict[str, tuple[int, int, str]] = {}
        for rel, stat in files.items():
            entry = known.get(rel)
            if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
                hashes[rel] = entry[2]
                continue
            entry = fresh.get(rel) if fresh else None
            if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
                hashes[rel], changed[rel] = entry[2], entry
                continue
            hashes[rel] = sha256_file(self.root / rel)
            changed[rel] = (stat.st_size, stat.st_mtime_ns, hashes[rel])
        removed = [rel for rel in known if rel not in files]
        if changed or removed:
            self.store.update_tree_hashes(output, changed, removed)
        return hashes
