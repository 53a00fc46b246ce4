"""Article images: find them in an article's Markdown, fetch them, keep only real raster images.

Readers behind a firewall cannot reach the news sites' image hosts, so the
build copies each image into the mirror (``images = "copy"``). Sync fetches
them here, through the run's one HttpClient (per-host limits, retries, a size
cap of ``mirror.image_max_bytes``), and stores them by URL. What is stored is
checked by its first bytes, not by what the server says it is: PNG, JPEG, GIF
and WebP only — never SVG (it can carry script) nor an HTML error page served
as 200.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable

from newsmirror.http import FetchError, HttpClient
from newsmirror.models import IMAGE_LINK
from newsmirror.store import Store

# A failing image is tried by this many syncs, then left as a link to the original.
MAX_ATTEMPTS = 3


class ImageError(Exception):
    """Bytes that are not an image the mirror may copy; the message is one line naming the URL."""


def image_urls(markdown: str) -> list[str]:
    """The http(s) image URLs an article's Markdown shows, in order, each once."""
    return list(dict.fromkeys(m["url"] for m in IMAGE_LINK.finditer(markdown)))


def sniff(data: bytes) -> str | None:
    """The file extension of a PNG, JPEG, GIF or WebP image from its magic bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    return None


def checked_image(url: str, data: bytes, content_type: str) -> tuple[str, str]:
    """(sha1, extension) of an image's bytes, or ImageError when they are not a raster image."""
    ext = sniff(data)
    if ext is None:
        kind = content_type.split(";", 1)[0].strip() or "unknown type"
        raise ImageError(f"{url}: not a PNG, JPEG, GIF or WebP image ({kind}, {len(data):,} bytes)")
    return hashlib.sha1(data).hexdigest(), ext


class ImageFetcher:
    """Fetches and stores the images of articles during one sync.

    Each URL is tried at most once per run, however many articles show it;
    images already stored are not fetched again. A failure is a warning
    naming the article and the image, counted in the store so that later
    syncs retry it up to ``MAX_ATTEMPTS`` times.
    """

    def __init__(self, store: Store, http: HttpClient, max_bytes: int, warn: Callable[[str], None]) -> None:
        self.store = store
        self.http = http
        self.max_bytes = max_bytes
        self.warn = warn
        self._tried: dict[str, asyncio.Task[bool]] = {}

    async def fetch(self, label: str, urls: Iterable[str]) -> None:
        """Fetch those of ``urls`` (the images of article ``label``) not stored yet, concurrently."""
        missing = self.store.missing_image_urls(list(urls))
        tasks = []
        for url in missing:
            if url not in self._tried:
                self._tried[url] = asyncio.ensure_future(self._fetch_one(label, url))
            tasks.append(self._tried[url])
        await asyncio.gather(*tasks)

    async def _fetch_one(self, label: str, url: str) -> bool:
        try:
            response = await self.http.get(url, max_bytes=self.max_bytes)
            sha1, ext = checked_image(url, response.content, response.content_type)
        except (FetchError, ImageError) as exc:
            self.warn(f"article {label}: image {exc}")
            self.store.image_failed(url, str(exc))
            return False
        self.store.save_image(url, sha1, ext, response.content)
        return True
