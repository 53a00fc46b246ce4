"""The demo sites' HTTP server: stdlib ThreadingHTTPServer on a background thread.

Every response carries ETag and Last-Modified and conditional GETs get 304;
text is gzipped when the client accepts it (with a weak ETag, as nginx does).
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from newsmirror.demosite.content import Item, Site, load_items, load_sites
from newsmirror.demosite.expected import Expected, build_expected
from newsmirror.demosite.render import (
    STATIC_DATE,
    Renderer,
    Resource,
    index_page,
    not_found_page,
    static_resources,
)
from newsmirror.demosite.siteconfig import config_toml
from newsmirror.models import canonical_url


@dataclass(frozen=True, slots=True)
class ServedRequest:
    method: str
    path: str  # decoded (Chinese characters as such), without the query string
    status: int
    conditional: bool  # the request carried If-None-Match or If-Modified-Since


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle's algorithm and
    # delayed ACKs stall every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True
    server_version = "demo-cms/3.2"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        site = self.server.demo
        with site._in_flight_to(urlsplit(f"//{self.headers.get('Host', '')}").hostname or ""):
            self._respond(site, send_body)

    def _respond(self, site: DemoSite, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path, errors="replace")
        resource = site._lookup(path)
        if resource.slow:
            site._stopping.wait(site.slow_delay)
        elif site.latency:
            site._stopping.wait(site.latency)
        conditional = "If-None-Match" in self.headers or "If-Modified-Since" in self.headers
        use_gzip = resource.compressible and "gzip" in (self.headers.get("Accept-Encoding") or "").lower()
        etag = ("W/" + resource.etag) if use_gzip else resource.etag
        status = resource.status
        if status == 200 and _not_modified(self.headers, resource):
            status = 304
        body = b""
        if status != 304:
            body = gzip.compress(resource.body, mtime=0) if use_gzip else resource.body
        # Recorded before answering: a client that has its answer must find the request in the log.
        site._record(ServedRequest(self.command, path, status, conditional))
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", resource.content_type)
            self.send_header("Content-Length", str(len(body)))
            if use_gzip:
                self.send_header("Content-Encoding", "gzip")
        if resource.location:
            self.send_header("Location", resource.location)
        if resource.status == 200:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", format_datetime(resource.last_modified, usegmt=True))
            self.send_header("Cache-Control", "max-age=60")
        if resource.compressible:
            self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.demo.log:
            self.server.demo.log(f"{self.address_string()} {format % args}")


def _not_modified(headers: object, resource: Resource) -> bool:
    if_none_match = headers.get("If-None-Match")  # type: ignore[attr-defined]
    if if_none_match:
        # Weak comparison: a gzipped copy's W/"x" matches "x".
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or resource.etag in tags
    if_modified_since = headers.get("If-Modified-Since")  # type: ignore[attr-defined]
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return since.tzinfo is not None and resource.last_modified.replace(microsecond=0) <= since
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    demo: DemoSite


class DemoSite:
    """The sample news sites, served on a background thread.

    >>> with DemoSite() as site:
    ...     site.base_url  # doctest: +SKIP
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        slow_delay: float = 2.0,
        log: Callable[[str], None] | None = None,
        latency: float = 0.0,
    ) -> None:
        self.slow_delay = slow_delay
        # Added to every other response, so that requests overlap as they do over a network.
        self.latency = latency
        self.log = log
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._most_in_flight: dict[str, int] = {}
        self._stopping = threading.Event()
        self._requests: list[ServedRequest] = []
        self._server = _Server((host, port), _Handler)
        self._server.demo = self
        self._thread: threading.Thread | None = None
        bound_host, bound_port = self._server.server_address[:2]
        if isinstance(bound_host, bytes):  # only for AF_UNIX-style addresses, never for this TCP server
            bound_host = bound_host.decode()
        self.base_url = f"http://{bound_host}:{bound_port}"
        self.sites: list[Site] = load_sites()
        self._items: dict[str, list[Item]] = {site.id: load_items(site) for site in self.sites}
        self._resources: dict[str, Resource] = static_resources(self.sites)
        self._resources["/"] = index_page(self.sites, self.base_url)
        for site in self.sites:
            self._render(site)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> DemoSite:
        if self._thread is None:
            # A short poll interval makes close() quick, which keeps test suites fast.
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-site", daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what tests use ----------------------------------------------------------

    @property
    def requests(self) -> list[ServedRequest]:
        """A snapshot of the requests served so far, in order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def most_in_flight(self) -> dict[str, int]:
        """Per host (as the client named it), the most requests being answered at once so far."""
        with self._lock:
            return dict(self._most_in_flight)

    @contextmanager
    def _in_flight_to(self, host: str) -> Iterator[None]:
        with self._lock:
            self._in_flight[host] = self._in_flight.get(host, 0) + 1
            self._most_in_flight[host] = max(self._most_in_flight.get(host, 0), self._in_flight[host])
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[host] -= 1

    @property
    def expected(self) -> Expected:
        with self._lock:
            return build_expected(self.sites, {k: list(v) for k, v in self._items.items()}, self.base_url)

    def config_toml(
        self,
        output: str = "mirror",
        store: str = "newsmirror.db",
        base_url: str = "https://github.com/example/mirror/blob/main",
    ) -> str:
        """A complete newsmirror.toml that mirrors the demo sites."""
        return config_toml(self.sites, self.base_url, output=output, store=store, mirror_url=base_url)

    def add_article(self, site_id: str, channel_id: str, title: str, body_html: str) -> str:
        """Publish a new article at the top of a channel; returns its URL."""
        site = self._site(site_id)
        site.channel(channel_id)
        with self._lock:
            items = self._items[site_id]
            newest = max((i.date for i in items if i.channel == channel_id), default=items[0].date)
            key = str(max((int(i.key) for i in items if i.key.isdigit()), default=900000) + 1)
            if not site.article_path.endswith((".html", ".shtml")):
                key = f"added-{key}"
            date = newest + timedelta(hours=1)
            item = Item(site=site_id, channel=channel_id, key=key, title=title, date=date, body_html=body_html)
            item.path = site.article_path.format(channel=channel_id, key=key, date=date)
            items.insert(0, item)
        self._render(site)
        return self.base_url + item.path

    def put_file(self, path: str, body: bytes, content_type: str) -> str:
        """Serve ``body`` at ``path`` from now on (e.g. an image that was missing, or an
        error page at an image's address); returns its URL."""
        with self._lock:
            self._resources[path] = Resource(body, content_type, STATIC_DATE)
        return self.base_url + path

    def update_article(self, url: str, title: str | None = None, body_html: str | None = None) -> None:
        """Change a published article in place (e.g. add an update marker to its
        title); its page and its channel's feed change, and so do their ETags."""
        wanted = canonical_url(url)
        for site in self.sites:
            with self._lock:
                item = next((i for i in self._items[site.id] if canonical_url(self.base_url + i.path) == wanted), None)
                if item is None:
                    continue
                if title is not None:
                    item.title = title
                if body_html is not None:
                    item.body_html, item.blocks = body_html, []
            self._render(site)
            return
        raise KeyError(f"no demo article at {url}")

    def delete_article(self, url: str, how: str = "404") -> None:
        """The site deletes a published article: its address answers 404 or 410, or ("home")
        redirects to the site's home page, and it leaves the feeds and lists."""
        if how not in ("404", "410", "home"):
            raise ValueError(f"how must be '404', '410' or 'home', not {how!r}")
        self._change(url, deleted=how)

    def unlist_article(self, url: str) -> None:
        """The article leaves its feed (as old items do) while its page stays up."""
        self._change(url, unlisted=True)

    def edit_article(self, url: str, old: str, new: str) -> None:
        """Edit an article's body in place, silently (its feed entry stays the same): replace ``old`` by ``new``."""
        item = self._item(url)
        body = Renderer(self._site(item.site), self.base_url).text(item)
        if old not in body:
            raise KeyError(f"{old!r} is not in the article at {url}")
        self._change(url, body_html=body.replace(old, new), blocks=[])

    # -- internals ---------------------------------------------------------------

    def _item(self, url: str) -> Item:
        wanted = canonical_url(url)
        with self._lock:
            for items in self._items.values():
                for item in items:
                    if canonical_url(self.base_url + item.path) == wanted:
                        return item
        raise KeyError(f"no demo article at {url}")

    def _change(self, url: str, **changes: object) -> None:
        item = self._item(url)
        with self._lock:
            for name, value in changes.items():
                setattr(item, name, value)
        self._render(self._site(item.site))

    def _site(self, site_id: str) -> Site:
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(f"no demo site {site_id!r}; the sites are {[s.id for s in self.sites]}")

    def _render(self, site: Site) -> None:
        with self._lock:
            items = sorted(self._items[site.id], key=lambda i: i.date, reverse=True)
            self._items[site.id] = items
            self._resources.update(Renderer(site, self.base_url).resources(items))

    def _lookup(self, path: str) -> Resource:
        with self._lock:
            resource = self._resources.get(path)
        return resource or not_found_page(path)

    def _record(self, request: ServedRequest) -> None:
        with self._lock:
            self._requests.append(request)
