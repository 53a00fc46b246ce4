"""What must never be published: the store and its side files, the run lock, configs, keys, secrets.

Two guards. ``check_layout`` refuses a configuration whose output folder (the
tree that is pushed to every remote) holds one of this mirror's private files:
every command runs it, as part of reading the config. And whatever lands in the
tree by other means, ``publish`` keeps out of git: ``PRIVATE_NAMES`` go into the
repository's exclude file, and ``private_files`` is checked before each commit.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from newsmirror.errors import UnsafeLayoutError
from newsmirror.lock import lock_path

if TYPE_CHECKING:
    from newsmirror.config import Config

# File names that are private wherever they appear in the tree (git's exclude syntax,
# matched against the file's name): SQLite stores and their journals, lock files,
# TOML configs (they hold proxy passwords and tokens), environment files, keys.
PRIVATE_NAMES = (
    "*.db",
    "*.db-*",
    "*.sqlite",
    "*.sqlite3",
    "*.sqlite-*",
    "*.sqlite3-*",
    "*-wal",
    "*-shm",
    "*-journal",
    "*.lock",
    "*.toml",
    ".env",
    ".env.*",
    "*.env",
    "*.key",
    "*.pem",
    "*.p12",
    "*.pfx",
    "*.sec",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".netrc",
    ".git-credentials",
)
_SQLITE_MAGIC = b"SQLite format 3\0"


def private_paths(config: Config) -> dict[str, Path]:
    """This configuration's private files, by what they are."""
    store = config.store_path
    paths = {
        "the store": store,
        "the store's write-ahead log": store.with_name(store.name + "-wal"),
        "the store's shared-memory file": store.with_name(store.name + "-shm"),
        "the run lock": lock_path(store),
        "the signing key": config.signing_key_path,
    }
    if config.file is not None:
        paths["the config"] = config.file.resolve()
    return paths


def check_layout(config: Config) -> None:
    """Refuse an output folder that holds a private file, or that is one (UnsafeLayoutError)."""
    output = config.output_dir
    for what, path in private_paths(config).items():
        if path == output or path.is_relative_to(output):
            raise UnsafeLayoutError(
                f"the output folder {output} holds {what} {path}: publishing would push it to every remote; "
                "put mirror.output in a folder of its own, away from the store and the config "
                '(e.g. output = "mirror" beside store = "newsmirror.db")'
            )
        if output.is_relative_to(path):
            raise UnsafeLayoutError(
                f"the output folder {output} lies inside {what} {path}; give mirror.output a folder of its own"
            )


def is_private_name(name: str) -> bool:
    """Is a file of this name private wherever it is (``PRIVATE_NAMES``)?"""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in PRIVATE_NAMES)


def private_files(tree: Path, paths: list[str]) -> list[str]:
    """Those of ``paths`` (relative to ``tree``) that must not be published: a private
    name, or an SQLite database whatever its name."""
    found = []
    for path in paths:
        if is_private_name(path.rsplit("/", 1)[-1]):
            found.append(path)
            continue
        try:
            with open(tree / path, "rb") as handle:
                head = handle.read(len(_SQLITE_MAGIC))
        except OSError:
            continue
        if head == _SQLITE_MAGIC:
            found.append(path)
    return found
