"""One run at a time: an exclusive lock next to the store.

A timer may fire while the previous run is still going; the second run must
exit at once instead of overlapping. ``flock`` is held by the open file, so the
kernel drops it when the holder dies, even by SIGKILL: there is no stale lock
to clean up, and the lock file itself is left in place (deleting it would let
two processes lock two different files).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from newsmirror.errors import LockBusy, StoreError


def lock_path(path: Path) -> Path:
    """The lock file that guards ``path`` (the store): ``<path>.lock``."""
    return path.with_name(path.name + ".lock")


@contextmanager
def run_lock(path: Path) -> Iterator[Path]:
    """Hold the run lock guarding ``path`` (the store) for the ``with`` block.

    Raises ``LockBusy`` at once, without waiting, when another process holds it.
    Yields the lock file's path.
    """
    lock_file = lock_path(path)
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        # "a+" so that opening never truncates what the holder wrote about itself.
        handle = open(lock_file, "a+", encoding="utf-8")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise StoreError(f"{lock_file}: cannot create the run lock beside the store: {exc.strerror or exc}") from None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise LockBusy(
                f"another newsmirror run is still going ({holder}; lock {lock_file}); "
                "this one exits — try again when it has finished"
            ) from None
        # Say who holds it, for the message a second run prints.
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        try:  # unbuffered, so that a full disk cannot fail the close either
            os.ftruncate(handle.fileno(), 0)
            os.pwrite(handle.fileno(), f"pid {os.getpid()}, started {started}".encode(), 0)
        except OSError:
            pass  # a full disk: the lock holds all the same; the store will say what is wrong
        try:
            yield lock_file
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def worker_lock(path: Path) -> Iterator[Path]:
    """The one worker a SQLite store (``path``) takes: ``<path>.worker.lock``.

    Raises ``LockBusy`` at once, with what to do, when another worker holds it.
    """
    try:
        with run_lock(path.with_name(path.name + ".worker")) as held:
            yield held
    except LockBusy as exc:
        raise LockBusy(
            f"another newsmirror worker is already running on the SQLite store {path} "
            f"({str(exc).split('(', 1)[-1].split(';', 1)[0]}): a SQLite store takes one worker. "
            'Stop the other one, or put the store on PostgreSQL (mirror.store = "postgresql://…") to run several'
        ) from None
