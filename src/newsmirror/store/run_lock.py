"""The cluster's run lock: a PostgreSQL advisory lock so builds and publishes on every machine take turns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from newsmirror.errors import LockBusy, StoreError
from newsmirror.store.connection import PostgresConnection, redact
from newsmirror.store.rows import one_line, postgres_errors

RUN_LOCK = 0x6E6D0002


class RunLockBusy(LockBusy):
    """Another build or publish holds the cluster's run lock (exit 3, as a busy lock file); one line for the user."""


@contextmanager
def cluster_run_lock(url: str, holder: str) -> Iterator[None]:
    """Hold the run lock of a PostgreSQL store for the block: a PostgreSQL advisory lock, so
    runs, builds and publishes on every machine sharing the store take turns. The server
    drops it when the holder's connection ends, even by kill -9: no stale lock to clean up.

    Raises ``RunLockBusy`` at once, naming the holder, when another process holds it.
    """
    try:
        db = PostgresConnection(url, application_name=holder)
    except ImportError as exc:
        raise StoreError(f"{redact(url)}: {exc}") from None
    except postgres_errors() as exc:
        raise StoreError(f"{redact(url)}: cannot open the store: {one_line(exc)}") from None
    try:
        if not db.execute("SELECT pg_try_advisory_lock(?)", (RUN_LOCK,)).fetchone()[0]:
            row = db.execute(
                "SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = ? AND l.pid <> pg_backend_pid()",
                (RUN_LOCK,),
            ).fetchone()
            who = f"{row[0] or 'another process'}, since {row[1]:%Y-%m-%d %H:%M:%S %Z}" if row else "another process"
            raise RunLockBusy(
                f"another newsmirror run is still going on the store {redact(url)} ({who}); "
                "this one exits — try again when it has finished"
            )
        yield
    finally:
        db.close()
