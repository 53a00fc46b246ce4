"""The one HTTP client of newsmirror.

A single shared ``httpx.AsyncClient`` with: bounded concurrency overall and per
host, connect/read timeouts, retries with backoff on timeouts, 429 and 5xx
(honouring Retry-After), conditional GET (ETag / Last-Modified), a cap on the
response size that also holds for the decompressed body, a User-Agent and an
optional HTTP or SOCKS proxy.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from types import TracebackType

import httpx

from newsmirror import charset
from newsmirror.config import HttpConfig
from newsmirror.errors import FetchError

_RETRY_STATUS = {429, 500, 502, 503, 504}
_MAX_RETRY_AFTER = 120.0


@dataclass(slots=True)
class Response:
    url: str  # after redirects
    status: int
    content: bytes
    content_type: str
    etag: str
    last_modified: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def text(self) -> str:
        return charset.decode(self.content, self.content_type)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _MAX_RETRY_AFTER)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min(moment.timestamp() - time.time(), _MAX_RETRY_AFTER))


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for the server"
    if isinstance(exc, httpx.ProxyError):
        return f"proxy error: {exc}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {exc}" if str(exc) else "cannot connect"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class HttpClient:
    """Use as ``async with HttpClient(config) as http: await http.get(url)``."""

    def __init__(self, config: HttpConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._overall = asyncio.Semaphore(config.concurrency)
        self._per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(config.per_host))
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            limits=httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency),
            headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=True,
            max_redirects=10,
            proxy=config.proxy,
            transport=transport,
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.aclose()

    async def get(self, url: str, *, etag: str = "", last_modified: str = "", max_bytes: int | None = None) -> Response:
        """GET a URL, retrying transient failures. A 304 is returned, not raised;
        any other non-2xx status raises ``FetchError``. ``max_bytes`` overrides
        the configured size cap for this request."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            host = httpx.URL(url).host
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"invalid URL: {exc}") from None
        attempt = 0
        while True:
            wait: float | None = None
            try:
                # Per host first: a task waiting for a busy host must not hold
                # one of the overall slots that other hosts could use.
                async with self._per_host[host], self._overall:
                    return await self._get_once(url, headers, max_bytes or self.config.max_bytes)
            except FetchError as exc:
                if exc.status not in _RETRY_STATUS or attempt >= self.config.retries:
                    raise
                wait = exc.retry_after if isinstance(exc, _RetryableStatus) else None
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if attempt >= self.config.retries:
                    raise FetchError(url, _describe(exc)) from None
            except httpx.HTTPError as exc:
                raise FetchError(url, _describe(exc)) from None
            # Exponential backoff with jitter, outside the semaphores so
            # a waiting retry does not hold a slot.
            if wait is None:
                wait = self.config.backoff * (2**attempt) * random.uniform(0.8, 1.2)
            await asyncio.sleep(wait)
            attempt += 1

    async def _get_once(self, url: str, headers: dict[str, str], limit: int) -> Response:
        async with self._client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return self._response(response, b"")
            if response.status_code >= 400:
                retry_after = _retry_after(response.headers.get("Retry-After"))
                if response.status_code in _RETRY_STATUS:
                    raise _RetryableStatus(url, response.status_code, retry_after)
                raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}", response.status_code)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(url, f"response too large ({int(declared):,} bytes, limit {limit:,})")
            chunks: list[bytes] = []
            size = 0
            # aiter_bytes yields decompressed bytes, so the cap also stops
            # a small gzip body that inflates to gigabytes.
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(url, f"response too large (over {limit:,} bytes)")
                chunks.append(chunk)
            return self._response(response, b"".join(chunks))

    @staticmethod
    def _response(response: httpx.Response, content: bytes) -> Response:
        return Response(
            url=str(response.url),
            status=response.status_code,
            content=content,
            content_type=response.headers.get("Content-Type", ""),
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
        )


class _RetryableStatus(FetchError):
    def __init__(self, url: str, status: int, retry_after: float | None) -> None:
        super().__init__(url, f"HTTP {status}", status)
        self.retry_after = retry_after
