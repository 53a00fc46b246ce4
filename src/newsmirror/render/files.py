"""The output tree as the build sees it: which files it manages, safe paths, atomic compare-before-write.

The build owns ``README.md`` (with ``index.html`` and ``feed.xml``) and everything
under ``pages/``, ``indexes/`` and ``images/``; anything else in the output directory (``.git``,
a LICENSE, a CNAME) is never read, written or deleted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from newsmirror.layout import (
    MANAGED_DIRS,
    MANAGED_SUFFIXES,
    NOT_IN_SUMS,
    ROOT_FILES,
    SAFE_SEGMENT,
    TEMP_MARK,
    VARIANT_DIRS,
)


class UnsafePathError(ValueError):
    """A path the build was asked to produce would leave its managed subtrees."""


@dataclass(slots=True)
class TreeScan:
    """One walk of an output tree, with one stat per file: what a build and SHA256SUMS need to know of it."""

    # Relative path → stat of every regular file a clone holds: all but .git, SHA256SUMS and its
    # signature, and temporary files.
    files: dict[str, os.stat_result] = field(default_factory=dict)
    # Whatever else is not a folder: temporary files of a killed build, symbolic links.
    others: set[str] = field(default_factory=set)


def scan_tree(root: Path) -> TreeScan:
    """Walk the tree once, following no symbolic link."""
    scan = TreeScan()
    pending = [("", str(root))]
    while pending:
        prefix, folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if not prefix and entry.name in NOT_IN_SUMS:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append((rel + "/", entry.path))
                elif entry.is_file(follow_symlinks=False) and not entry.name.startswith(TEMP_MARK):
                    scan.files[rel] = entry.stat(follow_symlinks=False)
                elif not entry.is_dir():  # a link to a folder is left alone, as os.walk does
                    scan.others.add(rel)
    return scan


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file in the target's folder and rename it over the target,
    so a reader (or a crash) never sees half a file."""
    temp = target.with_name(f"{TEMP_MARK}{os.getpid()}-{target.name}")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


class OutputTree:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._root = str(self.root)
        self._safe_dirs: set[Path] = set()
        for name in MANAGED_DIRS:
            if (self.root / name).is_symlink():
                raise UnsafePathError(f"{self.root / name} is a symbolic link; the build writes only real folders")

    def path(self, rel: str) -> Path:
        """The absolute path of a managed file, refusing anything outside the managed subtrees."""
        return Path(self._absolute(rel))

    def _absolute(self, rel: str) -> str:
        folder, _, inner = rel.partition("/")
        if folder not in VARIANT_DIRS.values() or not inner:
            inner = rel  # a copy in the other script holds what the top of the tree holds
        parts = inner.split("/")
        if inner not in ROOT_FILES and (
            len(parts) < 2
            or parts[0] not in MANAGED_DIRS
            or (inner != rel and parts[0] in VARIANT_DIRS.values())
            or not all(SAFE_SEGMENT.match(p) for p in parts[1:])
        ):
            raise UnsafePathError(f"{rel!r} is not a path the build manages")
        return os.path.join(self._root, rel)

    def _ensure_dir(self, directory: Path) -> None:
        if directory in self._safe_dirs:
            return
        directory.mkdir(parents=True, exist_ok=True)
        # A symlinked folder inside pages/ could point anywhere: check once per folder.
        if not directory.resolve().is_relative_to(self.root):
            raise UnsafePathError(f"{directory} leads outside the output folder {self.root}")
        self._safe_dirs.add(directory)

    def scan(self) -> TreeScan:
        """The tree as it is now (empty before the first build made it)."""
        return scan_tree(self.root) if self.root.is_dir() else TreeScan()

    def stat(self, rel: str) -> os.stat_result | None:
        try:
            return os.stat(self._absolute(rel), follow_symlinks=False)
        except FileNotFoundError:
            return None

    def read(self, rel: str) -> bytes | None:
        try:
            with open(self._absolute(rel), "rb") as handle:
                return handle.read()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def write(self, rel: str, data: bytes) -> bool:
        """Write ``data`` unless the file already holds exactly it; True when written.

        The new content goes to a temporary file in the same folder and is
        renamed over the old one, so a reader (or a crash) never sees half a file.
        """
        target = self.path(rel)
        if self.read(rel) == data:
            return False
        self._ensure_dir(target.parent)
        write_atomically(target, data)
        return True

    def existing(self, scan: TreeScan) -> set[str]:
        """Relative paths of the files found in the managed subtrees that the build may have produced."""
        return {
            rel
            for rel in [*scan.files, *scan.others]
            if "/" in rel
            and rel.partition("/")[0] in MANAGED_DIRS
            and (rel.endswith(MANAGED_SUFFIXES) or rel.rpartition("/")[2].startswith(TEMP_MARK))
        }

    def remove(self, rel: str) -> None:
        """Delete a managed file (or a leftover temporary file of a killed build) and any folder it leaves empty."""
        parts = rel.split("/")
        if parts[-1].startswith(TEMP_MARK):
            target = self.path("/".join([*parts[:-1], "x"])).with_name(parts[-1])
        else:
            target = self.path(rel)
        target.unlink(missing_ok=True)
        folder = target.parent
        while folder != self.root and folder.parent != self.root:  # keep pages/ and indexes/ themselves
            try:
                folder.rmdir()
            except OSError:  # not empty
                break
            folder = folder.parent
