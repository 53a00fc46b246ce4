"""QR codes: pages/<site>/<channel>/<id>.png beside each page, encoding its mirror URL."""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

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


def qr_pngs(urls: Iterable[str], on_done: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """PNG bytes for each URL, in order; many codes are drawn on every CPU (segno is pure Python)."""
    urls = list(urls)
    workers = min(os.cpu_count() or 1, 8)
    if len(urls) < _POOL_MIN or workers < 2:
        for url in urls:
            yield qr_png(url)
            if on_done:
                on_done(1)
        return
    size = 100
    chunks = [urls[i : i + size] for i in range(0, len(urls), size)]
    # forkserver: forking a process that runs threads (Rich's display) can deadlock.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        for chunk in pool.map(_batch, chunks):
            yield from chunk
            if on_done:
                on_done(len(chunk))
