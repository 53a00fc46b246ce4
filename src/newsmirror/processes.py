"""Worker processes for CPU-bound work that threads cannot spread over cores (the GIL): shrinking images
during a sync, drawing and writing article pages and QR codes during a build."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor


def worker_pool(workers: int, preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """``workers`` processes started by a fork server; each exits by itself once this process is gone.
    ``preload``: modules the fork server imports, if it is started now, so each worker starts with them."""
    return ProcessPoolExecutor(
        workers,
        mp_context=_fork_server(preload),
        initializer=_exit_with,
        initargs=(os.getpid(),),
    )


def _exit_with(pid: int) -> None:
    """In each worker: exit once process ``pid`` (the one that made the pool) is gone. Killed with -9, it
    cannot tell them, and they would wait for work for ever."""

    def watch() -> None:
        while True:
            time.sleep(1)
            try:
                os.kill(pid, 0)
            except OSError:  # no such process (or, reused by another user, not ours)
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def start_fork_server(preload: Sequence[str] = ()) -> None:
    """Start the fork server now, without waiting for it, so that it imports ``preload`` while this process
    goes on and the pool asked for later starts its workers at once."""
    _fork_server(preload)
    multiprocessing.forkserver.ensure_running()


def _fork_server(preload: Sequence[str]) -> multiprocessing.context.ForkServerContext:
    # forkserver: forking a process that runs threads (an event loop's, Rich's display) can deadlock.
    context = multiprocessing.get_context("forkserver")
    if preload:  # taken only by a fork server not started yet
        context.set_forkserver_preload(list(dict.fromkeys(["__main__", *preload])))  # __main__: the default
    return context
