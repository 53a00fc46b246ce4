"""The view counter: a 1×1 image per article page that counts views and keeps nothing about readers.

Every built page may carry ``![](<counter_url>/v/<site>/<channel>/<id>.gif)``. Fetching that image
adds one view to the article in the store's ``views`` table (one row per article per UTC day), which
``build`` turns into the most-read list.

Why Starlette under uvicorn: the service is one tiny ASGI endpoint plus a background task, which is
all Starlette is; uvicorn serves it on an asyncio loop (uvloop and httptools when installed) with
signal handling and a lifespan shutdown in which the last counts are saved. Both are already project
dependencies, so the counter adds none (aiohttp would be a second HTTP stack next to httpx).

Privacy — the reason this exists: readers behind a firewall are exactly the people whose addresses
must not be kept.

* No address, user agent or cookie is written anywhere. The store gets (article, day, count) only;
  uvicorn's access log is off, and every log line goes through a formatter that blanks anything that
  looks like an IP address, so no library message can leak one either.
* Repeat views are recognised by a keyed hash of (client address, article) held in memory only. Its
  key is random, never stored and replaced at every UTC midnight (which also empties the table), so
  the hashes cannot be matched to an address even by someone who reads the process memory a day later.
  The table holds at most ``max_clients`` entries; past that the oldest are dropped first.

Durability: counts are batched in memory and written in one transaction at most a second apart by a
background task; SIGTERM and SIGINT write what is pending before the process exits. A crash (or
``kill -9``) loses at most the views of the last second.

Known articles: the set of stored article keys is loaded at start and reloaded every minute. A set
lookup costs nothing per request and a flood of made-up ids never reaches SQLite; a page only gets
published after ``sync`` stored its article and ``build`` rendered it, so the minute's lag costs no
real views.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from newsmirror.errors import CounterError
from newsmirror.layout import counter_key
from newsmirror.models import ArticleKey
from newsmirror.store import Store, StoreError
from newsmirror.store.connection import redact

log = logging.getLogger("newsmirror.counter")

FLUSH_SECONDS = 1.0
REFRESH_KEYS_SECONDS = 60.0
MAX_CLIENTS = 200_000  # dedup entries; about 40 MB at most

# A 1×1 transparent GIF (43 bytes): 2-colour palette, colour 0 transparent, one LZW-coded pixel.
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00"
    b"\x02\x02\x44\x01\x00;"
)

# Browsers, proxies and image proxies (GitHub's camo honours no-cache) must fetch it every time.
NO_STORE_HEADERS = {
    "Cache-Control": "no-store, no-cache, must-revalidate, private, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
    "X-Content-Type-Options": "nosniff",
}

_MAX_PATH = 300

_IPV4 = r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])"
_IPV6 = r"[0-9A-Fa-f:]*::[0-9A-Fa-f:.]*|(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
_ADDRESS = re.compile(f"{_IPV4}|{_IPV6}")


class AddressFreeFormatter(logging.Formatter):
    """Blanks every IP-address-like text of a log line, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return _ADDRESS.sub("[address]", super().format(record))


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"()": AddressFreeFormatter, "format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        # Never configured with a handler: an access log line is exactly what must not exist.
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "newsmirror": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def _utc_day(day_number: int) -> str:
    return datetime.fromtimestamp(day_number * 86400, UTC).strftime("%Y-%m-%d")


class ViewTally:
    """Decides which requests are views and adds them up in memory. No I/O; the clocks can be passed in."""

    def __init__(
        self,
        window_seconds: float,
        *,
        max_clients: int = MAX_CLIENTS,
        monotonic: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], float] = time.time,
    ) -> None:
        self.window = window_seconds
        self.max_clients = max_clients
        self.known: set[ArticleKey] = set()
        self._monotonic = monotonic
        self._wallclock = wallclock
        # keyed hash of (client, article) → when its counted view was seen; oldest first
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._pending: dict[str, Counter[ArticleKey]] = {}
        self._day_number = -1
        self._today: Counter[ArticleKey] = Counter()
        self._salt = b""
        self._new_day(int(wallclock() // 86400))

    def _new_day(self, day_number: int) -> None:
        # A fresh salt every UTC day, never stored: yesterday's hashes cannot be linked to today's.
        self._salt = secrets.token_bytes(32)
        self._seen.clear()
        self._day_number = day_number
        self._today = self._pending.setdefault(_utc_day(day_number), Counter())

    def view(self, raw_path: bytes, client: str) -> bool:
        """Count a request for ``raw_path`` from ``client``; True if it was counted as a new view."""
        if len(raw_path) > _MAX_PATH:
            return False
        # The raw path (nothing percent-decoded) names an article for a set lookup, never a file.
        key = counter_key(raw_path)
        if key is None or key not in self.known:
            return False
        day_number = int(self._wallclock() // 86400)
        if day_number != self._day_number:
            self._new_day(day_number)
        if self.window > 0 and not self._first_in_window(client, raw_path):
            return False
        self._today[key] += 1
        return True

    def _first_in_window(self, client: str, raw_path: bytes) -> bool:
        digest = hashlib.blake2b(client.encode() + b"\0" + raw_path, key=self._salt, digest_size=16).digest()
        now = self._monotonic()
        seen = self._seen.get(digest)
        if seen is not None and now - seen < self.window:
            return False
        self._seen[digest] = now
        self._seen.move_to_end(digest)
        while len(self._seen) > self.max_clients:
            self._seen.popitem(last=False)
        return True

    def forget_expired(self) -> None:
        """Drop dedup entries older than the window (the oldest are first)."""
        horizon = self._monotonic() - self.window
        while self._seen:
            digest, seen = next(iter(self._seen.items()))
            if seen >= horizon:
                break
            del self._seen[digest]

    @property
    def clients_remembered(self) -> int:
        return len(self._seen)

    def take(self) -> dict[str, Counter[ArticleKey]]:
        """Hand over the pending counts, per UTC day, and start new ones."""
        taken = {day: counts for day, counts in self._pending.items() if counts}
        self._pending = {}
        self._today = self._pending.setdefault(_utc_day(self._day_number), Counter())
        return taken

    def give_back(self, counts: dict[str, Counter[ArticleKey]]) -> None:
        """Return counts that could not be saved, to be tried again with the next batch."""
        for day, day_counts in counts.items():
            self._pending.setdefault(day, Counter()).update(day_counts)


T = TypeVar("T")


class CounterService:
    """The tally plus its store: a background task saves counts every second and reloads known keys."""

    def __init__(self, store_path: Path | str, tally: ViewTally) -> None:
        self.store_path = store_path
        # The store in log lines: never a PostgreSQL URL's password.
        self.where = redact(store_path) if isinstance(store_path, str) else str(store_path)
        self.tally = tally
        self.saved = 0
        # A Store connection belongs to one thread: every store call runs on this one, off the event loop.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="counter-store")
        self._store: Store | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _open(self) -> None:
        self._store = Store(self.store_path)

    def _keys(self) -> set[ArticleKey]:
        assert self._store is not None
        return self._store.article_keys()

    def _save(self, counts: dict[str, Counter[ArticleKey]]) -> None:
        assert self._store is not None
        for day in sorted(counts):
            self._store.add_views(day, counts[day].items())
            del counts[day]  # saved: what is left, if anything fails, is exactly what was not

    async def start(self) -> None:
        await self._call(self._open)
        self.tally.known = await self._call(self._keys)
        log.info(
            "counting views of %d stored articles in %s; saving every %.0f s",
            len(self.tally.known),
            self.where,
            FLUSH_SECONDS,
        )
        self._task = asyncio.create_task(self._run())

    async def flush(self) -> None:
        counts = self.tally.take()
        if not counts:
            return
        total = _total(counts)
        try:
            await self._call(self._save, counts)
        except StoreError as exc:
            self.saved += total - _total(counts)
            self.tally.give_back(counts)
            log.error(
                "could not save %d views to %s (%s); keeping them for the next try",
                _total(counts),
                self.where,
                exc,
            )
            return
        self.saved += total

    async def _refresh_keys(self) -> None:
        try:
            self.tally.known = await self._call(self._keys)
        except StoreError as exc:
            log.error("could not reload the article list from %s (%s); using the previous one", self.where, exc)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_flush = next_refresh = loop.time()
        while not self._stopping.is_set():
            next_flush += FLUSH_SECONDS
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), max(0.0, next_flush - loop.time()))
            await self.flush()
            self.tally.forget_expired()
            if loop.time() >= next_refresh + REFRESH_KEYS_SECONDS:
                next_refresh = loop.time()
                await self._refresh_keys()
            next_flush = max(next_flush, loop.time() - FLUSH_SECONDS)

    async def stop(self) -> None:
        # Not a cancel: a save in hand finishes and is counted (cancelled mid-save, its views were
        # stored by the store's thread but never counted, or lost if that save failed).
        self._stopping.set()
        if self._task:
            await self._task
        await self.flush()
        if self._store:
            await self._call(self._store.close)
        self._executor.shutdown(wait=True)
        log.info("stopped; %d views saved", self.saved)


def _total(counts: dict[str, Counter[ArticleKey]]) -> int:
    return sum(sum(day_counts.values()) for day_counts in counts.values())


# One response object for every request: the same bytes and headers, never anything per reader.
PIXEL_RESPONSE = Response(PIXEL_GIF, media_type="image/gif", headers=NO_STORE_HEADERS)


def create_app(store_path: Path | str, window_minutes: float = 30.0, *, max_clients: int = MAX_CLIENTS) -> Starlette:
    """The ASGI app: every GET or HEAD gets the pixel; a GET of a stored article's image counts a view."""
    service = CounterService(store_path, ViewTally(window_minutes * 60, max_clients=max_clients))

    async def pixel(request: Request) -> Response:
        # A HEAD fetches no image, so nobody saw anything: link checkers do not count.
        if request.method == "GET":
            scope = request.scope
            raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "replace")
            client = scope.get("client")
            service.tally.view(raw_path, client[0] if client else "")
        return PIXEL_RESPONSE

    async def anything_else(request: Request, exc: Exception) -> Response:
        return PIXEL_RESPONSE

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = Starlette(
        routes=[Route("/{path:path}", pixel, methods=["GET", "HEAD"])],
        exception_handlers={HTTPException: anything_else},
        lifespan=lifespan,
    )
    app.state.service = service
    return app


def serve(store_path: Path | str, *, host: str, port: int, window_minutes: float, trust_proxy: bool) -> None:
    """Run the counter until SIGTERM or SIGINT, then save what is pending and return."""
    import uvicorn

    try:
        with Store(store_path) as store:  # a store that cannot be opened is the user's to fix, not a traceback
            if store.upgraded:
                log.info("%s", store.upgraded)
    except StoreError as exc:
        raise CounterError(str(exc)) from None
    config = uvicorn.Config(
        create_app(store_path, window_minutes),
        host=host,
        port=port,
        log_config=LOG_CONFIG,
        log_level="warning",
        access_log=False,
        # Without --trust-proxy, X-Forwarded-For is ignored whoever sends it; with it, it is taken
        # only from FORWARDED_ALLOW_IPS (uvicorn's variable; loopback when unset).
        proxy_headers=trust_proxy,
        forwarded_allow_ips=None,
        server_header=False,
        lifespan="on",
        ws="none",
        # A client that never finishes its request must not hold back the final save.
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    log.info("starting on port %d%s", port, " behind a trusted reverse proxy" if trust_proxy else "")
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the SIGINT it handled, after the graceful shutdown
    except SystemExit as exc:
        if not server.started:
            raise CounterError(
                f"the counter could not start on port {port} (see the message above); "
                "if the port is taken, stop what runs there or pick another --port"
            ) from exc
        raise
