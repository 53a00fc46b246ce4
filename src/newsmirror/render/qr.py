"""QR codes: pages/<site>/<channel>/<id>.png beside each page, encoding its mirror URL."""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import segno

from newsmirror.models import sha1_hex

# Pixels per module and quiet-zone modules: a 33-module code (a typical page
# URL) makes a ~185 px, ~0.5 KB image that phones read off a screen.
SCALE = 5
BORDER = 2
# Below this many codes a process pool costs more than it saves.
_POOL_MIN = 200


def qr_inputs(url: str) -> str:
    """The manifest fingerprint of a QR image: only the URL and the drawing settings."""
    return sha1_hex(f"qr {SCALE} {BORDER} {segno.__version__} {url}")


def qr_png(url: str) -> bytes:
    # error="l" keeps the code small; segno raises the level for free when the
    # data leaves room at the same size.
    code = segno.make_qr(url, error="l")
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=SCALE, border=BORDER)
    return buffer.getvalue()


def _batch(urls: list[str]) -> list[bytes]:
    return [qr_png(url) for url in urls]


class QrDrawer:
    """Draws QR codes in worker processes while the caller does other work (segno is pure Python).

    ``start(urls)`` hands the work out at once; iterating ``results()`` yields the
    PNG bytes in order. Few codes are drawn in this process: a pool costs more
    than it saves. Like any multiprocessing code, a script that builds must keep
    its work under ``if __name__ == "__main__":``.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._pending: Iterator[list[bytes]] = iter(())
        self._urls: list[str] = []

    def __enter__(self) -> QrDrawer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool:
            self._pool.shutdown(cancel_futures=True)

    def start(self, urls: list[str]) -> None:
        self._urls = urls
        workers = min(os.cpu_count() or 1, 8)
        if len(urls) >= _POOL_MIN and workers > 1:
            # forkserver: forking a process that runs threads (Rich's display) can deadlock.
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
            size = max(20, min(200, len(urls) // (workers * 8)))
            chunks = [urls[i : i + size] for i in range(0, len(urls), size)]
            self._pending = self._pool.map(_batch, chunks)

    def results(self, on_done: Callable[[int], None] | None = None) -> Iterator[bytes]:
        drawn = 0
        try:
            for chunk in self._pending:
                yield from chunk
                drawn += len(chunk)
                if on_done:
                    on_done(len(chunk))
        except BrokenProcessPool:
            pass  # a worker died (killed, out of memory): draw the rest here
        for url in self._urls[drawn:]:
            yield qr_png(url)
            if on_done:
                on_done(1)
