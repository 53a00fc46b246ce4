"""Article images: find them in an article's Markdown, fetch them, store them shrunk for 2G.

Readers behind a firewall cannot reach the news sites' image hosts, so the
build copies each image into the mirror (``images = "copy"``). Sync fetches
them here, through the run's one HttpClient (per-host limits, retries, a size
cap of ``mirror.image_max_bytes``), shrinks them in worker processes, one per
core (``image_shrink``: at most ``mirror.image_max_width`` pixels wide and
``mirror.image_budget`` bytes, no metadata) and stores only the shrunk copy
with its width and height. What is stored is checked by its first bytes, not by
what the server says it is: PNG, JPEG, GIF and WebP only — never SVG (it can
carry script) nor an HTML error page served as 200.

An image that cannot be had or shrunk is a one-line warning and one attempt
counted in the store; after ``mirror.image_attempts`` of them, over all runs,
it is never asked for again, and its page shows its caption instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial

from newsmirror.errors import unexpected
from newsmirror.http import FetchError, HttpClient
from newsmirror.image_shrink import ImageError, ShrunkImage, shrink_image
from newsmirror.models import IMAGE_LINK
from newsmirror.processes import worker_pool
from newsmirror.store import Store

log = logging.getLogger(__name__)

# The most shrinking processes: each holds one decoded picture (a 12 MP photo is some 36 MB).
_MOST_WORKERS = 4
_pool: ProcessPoolExecutor | None = None


def _shrink_pool() -> ProcessPoolExecutor | None:
    """The processes images are shrunk in, made at first use and kept for the life of the process (a worker's
    too); None on one core. Threads could not keep two cores busy: the shrinker's Python between Pillow's
    calls holds the GIL, and at 70 ms of CPU an image, two threads reached some 1.3 cores."""
    global _pool
    workers = min(os.cpu_count() or 1, _MOST_WORKERS)
    if _pool is None and workers > 1:
        _pool = worker_pool(workers)
    return _pool


def _drop_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def image_urls(markdown: str) -> list[str]:
    """The http(s) image URLs an article's Markdown shows, in order, each once."""
    return list(dict.fromkeys(m["url"] for m in IMAGE_LINK.finditer(markdown)))


class ImageFetcher:
    """Fetches and stores the images of articles during one sync.

    Each URL is tried at most once per run, however many articles show it;
    images already stored, or given up on, are not fetched again. A failure is
    a warning naming the article and the image, counted in the store so that
    later syncs retry it until it has been tried ``attempts`` times in all.
    """

    def __init__(
        self,
        store: Store,
        http: HttpClient,
        warn: Callable[[str], None],
        *,
        max_bytes: int,
        max_width: int,
        budget: int,
        attempts: int,
    ) -> None:
        self.store = store
        self.http = http
        self.warn = warn
        self.max_bytes = max_bytes
        self.attempts = attempts
        self._shrink = partial(shrink_image, max_width=max_width, budget=budget)
        self._tried: dict[str, asyncio.Task[bool]] = {}
        self.shrunk = 0  # images shrunk and stored by this sync
        self.shrink_seconds = 0.0  # the time at least one image was being shrunk: shrunk / this is the rate
        self._shrinking = 0
        self._busy_since = 0.0

    async def fetch(self, label: str, urls: Iterable[str]) -> None:
        """Fetch those of ``urls`` (the images of article ``label``) not stored nor given up on yet, concurrently."""
        missing = self.store.missing_image_urls(list(urls), self.attempts)
        tasks = []
        for url in missing:
            if url not in self._tried:
                self._tried[url] = asyncio.ensure_future(self._fetch_one(label, url))
            tasks.append(self._tried[url])
        await asyncio.gather(*tasks)

    async def _fetch_one(self, label: str, url: str) -> bool:
        try:
            response = await self.http.get(url, max_bytes=self.max_bytes)
            shrunk = await self._shrunk(url, response.content, response.content_type)
        except (FetchError, ImageError) as exc:
            tries = self.store.image_failed(url, str(exc))
            more = "; not tried again" if tries >= self.attempts else f"; tried {tries} of {self.attempts} times"
            self.warn(f"article {label}: image {exc}{more}")
            return False
        except Exception as exc:  # a bug meeting a hostile image costs that image, not the run
            log.debug("image %s of article %s", url, label, exc_info=exc)
            tries = self.store.image_failed(url, unexpected(exc))
            self.warn(f"article {label}: image {url}: {unexpected(exc)}; tried {tries} of {self.attempts} times")
            return False
        self.store.save_image(url, shrunk)
        self.shrunk += 1
        return True

    async def _shrunk(self, url: str, data: bytes, content_type: str = "") -> ShrunkImage:
        """``data`` shrunk in a worker process, so the images in flight are shrunk on every core at once."""
        if not self._shrinking:
            self._busy_since = time.perf_counter()
        self._shrinking += 1
        loop = asyncio.get_running_loop()
        work = partial(self._shrink, url, data, content_type=content_type)
        try:
            try:
                return await loop.run_in_executor(_shrink_pool(), work)
            except BrokenProcessPool:
                # A shrinking process died (killed, out of memory): this image is shrunk here, the next in a new pool.
                _drop_pool()
                return await loop.run_in_executor(None, work)
        finally:
            self._shrinking -= 1
            if not self._shrinking:
                self.shrink_seconds += time.perf_counter() - self._busy_since

    async def shrink_stored(self) -> None:
        """Shrink the images a release that kept them as they came stored: from the store, no download."""
        urls = self.store.unshrunk_images()
        at_once = asyncio.Semaphore(8)  # only a few originals in memory at a time

        async def one(url: str) -> None:
            async with at_once:
                data = self.store.image_data(url)
                if data is None:
                    return
                try:
                    shrunk = await self._shrunk(url, data)
                except ImageError as exc:
                    self.warn(f"stored image {exc}; its copy is kept as it is")
                    return
                self.store.save_image(url, shrunk)
                self.shrunk += 1

        await asyncio.gather(*(one(url) for url in urls))
